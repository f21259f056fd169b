import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import type { ImageTextModel } from '../model/image_text_model.js';
import { decodeImage } from '../preprocess/decode.js';
import { preprocessPilImage } from '../preprocess/preprocess_pixels.js';
import { CLASS_NAMES, TEMPLATES, removeTempDirs, tempDir, writeColourFolder } from './eval.test.helpers.js';
import { zeroShotClassifier as inBrowser } from './zero_shot_browser.js';
import { zeroShotClassifier as inNode } from './zero_shot_pipeline.js';

let model: ImageTextModel;
let root: string;
beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
  root = await tempDir('browser-pipeline');
  await writeColourFolder(root, { red: ['red'], green: ['green'], blue: ['blue'] });
});
afterAll(async () => {
  await model.dispose();
  await removeTempDirs();
});

it('ranks decoded pixels exactly as Node ranks the files', async () => {
  const files = ['red', 'green', 'blue'].map((c) => join(root, c, 'img00.png'));
  const options = { classNames: CLASS_NAMES, templates: TEMPLATES };
  const [node, browser] = [await inNode(model, options), await inBrowser(model, options)];
  // What a page does: decode (here with sharp, there with a canvas), then the shared preprocessing.
  const pixels = await Promise.all(
    files.map(async (f) => {
      const { data, shape } = preprocessPilImage(await decodeImage(f), model.preprocess);
      return tf.tensor3d(data, shape);
    }),
  );
  expect(await browser(pixels, { topK: 3 })).toEqual(await node(files, { topK: 3 }));
  tf.dispose(pixels);
  node.dispose();
  browser.dispose();
});

it('says what a browser cannot do: paths or bytes, and a file cache', async () => {
  const classify = await inBrowser(model, { classNames: CLASS_NAMES });
  await expect(classify([join(root, 'red', 'img00.png')])).rejects.toThrow(
    /takes pixel tensors \[3, H, W\], not paths or bytes/,
  );
  classify.dispose();
  await expect(inBrowser(model, { classNames: CLASS_NAMES, cacheDir: '/tmp/x' })).rejects.toThrow(
    /a browser has no file cache/,
  );
});
