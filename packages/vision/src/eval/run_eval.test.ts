import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import type { ImageDataset } from '../data/image_dataset.js';
import { loadImageFolderDataset } from '../data/image_folder.js';
import type { ImageTextModel } from '../model/image_text_model.js';
import { preprocessBatch } from '../preprocess/batch.js';
import { buildZeroShotClassifier } from '../zeroshot/classifier.js';
import { evaluateZeroShot } from '../zeroshot/evaluate.js';
import { ZeroShotEvalError } from './eval_error.js';
import type { ZeroShotEvalOptions } from './eval_options.js';
import {
  CLASS_NAMES,
  ORANGE,
  TEMPLATES,
  removeTempDirs,
  tempDir,
  writeColourFolder,
} from './eval.test.helpers.js';
import { imageDatasetSource } from './image_dataset_source.js';
import { runZeroShotEval } from './run_eval.js';

let model: ImageTextModel;
let ds: ImageDataset;
let broken: ImageDataset;

beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
  const root = await tempDir('run');
  // Three squares of each colour; the red folder also holds an orange one: a known top-1 mistake.
  await writeColourFolder(root, {
    blue: ['blue', 'blue', 'blue'],
    cyan: ['cyan', 'cyan', 'cyan'],
    green: ['green', 'green', 'green'],
    magenta: ['magenta', 'magenta', 'magenta'],
    red: ['red', 'red', 'red', ORANGE],
    yellow: ['yellow', 'yellow', 'yellow'],
  });
  ds = await loadImageFolderDataset(root);
  const brokenRoot = await tempDir('broken');
  await writeColourFolder(brokenRoot, { blue: ['blue', 'blue'], red: ['red', 'red'] });
  await writeFile(join(brokenRoot, 'red', 'img09.png'), Buffer.from('not a png at all'));
  broken = await loadImageFolderDataset(brokenRoot, { classes: CLASS_NAMES });
});

afterAll(async () => {
  await model.dispose();
  await removeTempDirs();
});

function options(extra: Partial<ZeroShotEvalOptions> = {}): ZeroShotEvalOptions {
  return {
    model,
    modelId: 'tiny-clip',
    source: imageDatasetSource(ds),
    classNames: ds.classNames,
    templates: TEMPLATES,
    templatesName: 'colours2',
    batchSize: 4,
    cacheDir: null,
    ...extra,
  };
}

describe('runZeroShotEval on coloured squares with the tiny CLIP', () => {
  it('predicts each square’s colour and computes the metrics from the predictions', async () => {
    expect(ds.classNames).toEqual(CLASS_NAMES);
    const progress: string[] = [];
    const r = await runZeroShotEval(
      options({ onProgress: (e) => progress.push(`${e.phase} ${e.done}/${e.total}`) }),
    );
    expect(r).toMatchObject({
      dataset: ds.name,
      model: 'tiny-clip',
      templates: 2,
      templatesName: 'colours2',
      classes: 6,
      topK: 5,
      counts: { items: 19, evaluated: 19, skipped: 0, skippedFiles: [] },
      sampling: { datasetItems: 19, selected: 19, seed: 0 },
      warnings: [],
    });
    expect(r.shard).toBeUndefined();
    expect(r.predictions.map((p) => p.index)).toEqual([...Array(19).keys()]);
    const red = CLASS_NAMES.indexOf('red');
    const yellow = CLASS_NAMES.indexOf('yellow');
    for (const p of r.predictions) {
      expect(p.id).toBe(ds.items[p.index].path);
      expect(p.label).toBe(ds.items[p.index].label);
      expect(p.top).toHaveLength(5);
      const wrong = p.id.endsWith(join('red', 'img03.png'));
      expect(p.top[0].class).toBe(wrong ? yellow : p.label);
      expect(p.rank).toBe(wrong ? 1 : 0); // orange: yellow, then red
      expect(p.top.map((t) => t.score)).toEqual([...p.top.map((t) => t.score)].sort((a, b) => b - a));
    }
    expect(r.metrics.top1).toBeCloseTo(18 / 19, 12);
    expect(r.metrics.top5).toBe(1);
    expect(r.metrics.perClassRecall).toEqual(CLASS_NAMES.map((_, c) => (c === red ? 0.75 : 1)));
    expect(r.metrics.meanPerClassRecall).toBeCloseTo(5.75 / 6, 12);
    expect(r.timing.classifierCached).toBe(false);
    expect(r.timing.imagesPerSecond).toBeGreaterThan(0);
    expect(progress[0]).toBe('classifier 6/6');
    expect(progress.slice(1)).toEqual([
      'images 0/19',
      'images 4/19',
      'images 8/19',
      'images 12/19',
      'images 16/19',
      'images 19/19',
    ]);
    expect(JSON.stringify(r)).not.toContain('NaN');
  });

  it('agrees with evaluateZeroShot / ZeroShotAccumulator on the same images', async () => {
    const r = await runZeroShotEval(options({ batchSize: 7 }));
    const classifier = await buildZeroShotClassifier(model, ds.classNames, TEMPLATES);
    const { pixels } = await preprocessBatch(
      ds.items.map((i) => i.path),
      model.preprocess,
    );
    const m = await evaluateZeroShot(model, classifier, [{ pixels, labels: ds.items.map((i) => i.label) }]);
    classifier.dispose();
    expect(r.metrics.top1).toBe(m.top1);
    expect(r.metrics.top5).toBe(m.top5);
    expect(r.metrics.meanPerClassRecall).toBe(m.meanPerClassRecall);
    expect(r.metrics.perClassRecall).toEqual(m.perClassRecall);
  });

  it('evaluates a seeded class-balanced sample with limit', async () => {
    const r = await runZeroShotEval(options({ limit: 12, seed: 3 }));
    expect(r.counts.items).toBe(12);
    expect(r.sampling).toEqual({ datasetItems: 19, selected: 12, limit: 12, seed: 3 });
    const perClass = CLASS_NAMES.map((_, c) => r.predictions.filter((p) => p.label === c).length);
    expect(perClass).toEqual([2, 2, 2, 2, 2, 2]);
    const again = await runZeroShotEval(options({ limit: 12, seed: 3 }));
    expect(again.predictions).toEqual(r.predictions);
    const other = await runZeroShotEval(options({ limit: 12, seed: 4 }));
    expect(other.predictions.map((p) => p.index)).not.toEqual(r.predictions.map((p) => p.index));
  });

  it('restricts prediction to a subset source’s classIndices', async () => {
    const source = {
      ...imageDatasetSource(ds),
      classIndices: [CLASS_NAMES.indexOf('red'), CLASS_NAMES.indexOf('blue')],
    };
    const subsetItems = ds.items.flatMap((item, i) => (source.classIndices.includes(item.label) ? [i] : []));
    const only = { ...source, count: subsetItems.length, labels: subsetItems.map((i) => ds.items[i].label) };
    only.id = (k: number) => ds.items[subsetItems[k]].path;
    only.loadBatch = (indices, pre) =>
      source
        .loadBatch(
          indices.map((k) => subsetItems[k]),
          pre,
        )
        .then((b) => ({
          ...b,
          loaded: b.loaded.map((i) => subsetItems.indexOf(i)),
          errors: b.errors.map((e) => ({ ...e, index: subsetItems.indexOf(e.index) })),
        }));
    const r = await runZeroShotEval(options({ source: only }));
    expect(r.classIndices).toEqual(source.classIndices);
    // The orange square can only be called red or blue now, and red wins.
    expect(r.metrics.top1).toBe(1);
    expect(r.metrics.top5).toBeNull(); // 2 classes
    for (const p of r.predictions)
      expect(p.top.map((t) => t.class).sort()).toEqual([...source.classIndices].sort());
    await expect(
      runZeroShotEval(options({ source: { ...only, classIndices: [CLASS_NAMES.indexOf('red')] } })),
    ).rejects.toThrow(/outside the source's classIndices/);
  });

  it('skips an unreadable image and lists it; strict mode fails naming the file', async () => {
    const bad = join(broken.root, 'red', 'img09.png');
    const r = await runZeroShotEval(
      options({ source: imageDatasetSource(broken), classNames: broken.classNames }),
    );
    expect(r.counts).toMatchObject({ items: 5, evaluated: 4, skipped: 1 });
    expect(r.counts.skippedFiles).toEqual([{ id: bad, message: expect.any(String), index: 4 }]);
    expect(r.metrics.top1).toBe(1);
    const strict = runZeroShotEval(
      options({ source: imageDatasetSource(broken), classNames: broken.classNames, strict: true }),
    );
    await expect(strict).rejects.toBeInstanceOf(ZeroShotEvalError);
    await expect(strict).rejects.toMatchObject({
      code: 'unreadable-image',
      file: bad,
      message: expect.stringContaining(bad),
    });
  });

  it('a prefetched batch that fails while the one before is scored fails the run, with no unhandled rejection', async () => {
    const source = imageDatasetSource(ds);
    let calls = 0;
    const failing = {
      ...source,
      loadBatch: (indices: number[], pre: Parameters<typeof source.loadBatch>[1]) =>
        ++calls === 1 ? source.loadBatch(indices, pre) : Promise.reject(new Error('disk went away')),
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(runZeroShotEval(options({ source: failing }))).rejects.toThrow('disk went away');
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(calls).toBe(2);
    expect(unhandled).toEqual([]);
  });

  it('rejects bad options before any work', async () => {
    await expect(runZeroShotEval(options({ batchSize: 0 }))).rejects.toThrow(
      'batchSize must be a positive integer, got 0.',
    );
    await expect(runZeroShotEval(options({ templates: ['no placeholder'] }))).rejects.toThrow(
      /has no \{\} placeholder/,
    );
    await expect(runZeroShotEval(options({ resume: true }))).rejects.toMatchObject({ code: 'bad-option' });
    await expect(runZeroShotEval(options({ shard: { index: 3, count: 3 } }))).rejects.toThrow(/shard index/);
  });

  it('leaks no tensors', async () => {
    const cacheDir = await tempDir('leak-cache');
    await runZeroShotEval(options({ limit: 6, cacheDir }));
    const before = tf.memory().numTensors;
    await runZeroShotEval(options({ limit: 6 }));
    await runZeroShotEval(options({ limit: 6, cacheDir })); // classifier loaded from the cache
    await runZeroShotEval(options({ source: imageDatasetSource(broken), classNames: broken.classNames }));
    await runZeroShotEval(
      options({ source: imageDatasetSource(broken), classNames: broken.classNames, strict: true }),
    ).catch(() => undefined);
    const controller = new AbortController();
    await runZeroShotEval(
      options({ signal: controller.signal, onProgress: (e) => e.done > 0 && controller.abort() }),
    ).catch(() => undefined);
    expect(tf.memory().numTensors).toBe(before);
  });
});
