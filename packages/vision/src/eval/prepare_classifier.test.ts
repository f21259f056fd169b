import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import type { ImageDataset } from '../data/image_dataset.js';
import { loadImageFolderDataset } from '../data/image_folder.js';
import type { ImageTextModel } from '../model/image_text_model.js';
import { classifierCacheFile } from './classifier_cache.js';
import { ZeroShotEvalError } from './eval_error.js';
import {
  CLASS_NAMES,
  TEMPLATES,
  countingModel,
  removeTempDirs,
  tempDir,
  writeColourFolder,
} from './eval.test.helpers.js';
import { imageDatasetSource } from './image_dataset_source.js';
import {
  type PrepareClassifierOptions,
  evalModelHash,
  prepareZeroShotClassifier,
} from './prepare_classifier.js';
import { runZeroShotEval } from './run_eval.js';

let model: ImageTextModel;
let ds: ImageDataset;

beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
  const root = await tempDir('prepare-data');
  await writeColourFolder(root, Object.fromEntries(CLASS_NAMES.map((c) => [c, [c, c]])));
  ds = await loadImageFolderDataset(root);
});

afterAll(async () => {
  await model.dispose();
  await removeTempDirs();
});

/** A model that counts the images it embeds and the texts it encodes. */
function counting(): ImageTextModel & { imageBatches: number[]; texts: number } {
  const m = Object.assign(countingModel(model), { texts: 0 });
  m.embedTexts = (texts: string[]) => {
    m.texts += texts.length;
    return model.embedTexts(texts);
  };
  return m;
}

function options(cacheDir: string | null, extra: Partial<PrepareClassifierOptions> = {}) {
  return {
    model,
    modelId: 'tiny-clip',
    modelFingerprint: { files: { 'model.onnx': 'abc' } },
    source: imageDatasetSource(ds),
    classNames: ds.classNames,
    templates: TEMPLATES,
    cacheDir,
    ...extra,
  };
}

describe('prepareZeroShotClassifier', () => {
  it('builds the entry the evaluation then loads, without touching an image', async () => {
    const cacheDir = await tempDir('prepare-cache');
    const m = counting();
    const prepared = await prepareZeroShotClassifier(options(cacheDir, { model: m }));
    expect(m.imageBatches).toEqual([]);
    expect(m.texts).toBe(CLASS_NAMES.length * TEMPLATES.length);
    expect(prepared).toMatchObject({
      cached: false,
      classes: CLASS_NAMES.length,
      templates: 2,
      warnings: [],
    });
    const hash = evalModelHash(model, { files: { 'model.onnx': 'abc' } });
    expect(prepared.file).toBe(classifierCacheFile(cacheDir, 'tiny-clip', ds.classNames, TEMPLATES, hash));
    expect(await readdir(cacheDir)).toEqual([prepared.file.split('/').pop()]);

    // The same key as runZeroShotEval's: the run builds nothing (one implementation of the model hash).
    const run = counting();
    const result = await runZeroShotEval({ ...options(cacheDir), model: run, shard: { index: 1, count: 3 } });
    expect(result.timing.classifierCached).toBe(true);
    expect(run.texts).toBe(0);
    expect((await prepareZeroShotClassifier(options(cacheDir))).cached).toBe(true);
  });

  it('builds only the columns of a subset source', async () => {
    const cacheDir = await tempDir('prepare-subset');
    const source = { ...imageDatasetSource(ds), classIndices: [1, 3, 4] };
    const prepared = await prepareZeroShotClassifier(options(cacheDir, { source }));
    const names = [1, 3, 4].map((c) => ds.classNames[c]);
    const hash = evalModelHash(model, { files: { 'model.onnx': 'abc' } });
    expect(prepared.classes).toBe(3);
    expect(prepared.file).toBe(classifierCacheFile(cacheDir, 'tiny-clip', names, TEMPLATES, hash));
  });

  it('builds once for concurrent callers; the others say whom they wait for', async () => {
    const cacheDir = await tempDir('prepare-wait');
    const logs: string[] = [];
    const m = counting();
    const results = await Promise.all(
      [0, 1].map(() =>
        prepareZeroShotClassifier(options(cacheDir, { model: m, onLog: (l) => logs.push(l) })),
      ),
    );
    expect(results.map((r) => r.cached).sort()).toEqual([false, true]);
    expect(m.texts).toBe(CLASS_NAMES.length * TEMPLATES.length);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(
      new RegExp(`^waiting for process ${process.pid} on .+, which is building this classifier`),
    );
  });

  it('needs a cache dir', async () => {
    const preparing = prepareZeroShotClassifier(options(null));
    await expect(preparing).rejects.toBeInstanceOf(ZeroShotEvalError);
    await expect(preparing).rejects.toMatchObject({ code: 'bad-option' });
    await expect(preparing).rejects.toThrow(/needs a cache dir/);
  });
});
