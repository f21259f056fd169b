import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '@moevl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import type { ImageDataset } from '../data/image_dataset.js';
import { loadImageFolderDataset } from '../data/image_folder.js';
import type { ImageTextModel } from '../model/image_text_model.js';
import { buildZeroShotClassifier } from '../zeroshot/classifier.js';
import { classifierCacheFile, loadOrBuildClassifier } from './classifier_cache.js';
import type { ZeroShotEvalOptions } from './eval_options.js';
import {
  CLASS_NAMES,
  TEMPLATES,
  countingModel,
  removeTempDirs,
  tempDir,
  writeColourFolder,
} from './eval.test.helpers.js';
import { imageDatasetSource } from './image_dataset_source.js';
import { runZeroShotEval } from './run_eval.js';

let model: ImageTextModel;
let ds: ImageDataset;

beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
  const root = await tempDir('cache-data');
  await writeColourFolder(root, Object.fromEntries(CLASS_NAMES.map((c) => [c, [c]])));
  ds = await loadImageFolderDataset(root);
});

afterAll(async () => {
  await model.dispose();
  await removeTempDirs();
});

/** A model that counts the texts it embeds, to tell a cache hit from a rebuild. */
function textCounting(): ImageTextModel & { texts: number } {
  const counting = Object.assign(countingModel(model), { texts: 0 });
  counting.embedTexts = (texts: string[]) => {
    counting.texts += texts.length;
    return model.embedTexts(texts);
  };
  return counting;
}

function options(extra: Partial<ZeroShotEvalOptions>): ZeroShotEvalOptions {
  return {
    model,
    modelId: 'tiny-clip',
    source: imageDatasetSource(ds),
    classNames: ds.classNames,
    templates: TEMPLATES,
    ...extra,
  };
}

describe('classifier cache', () => {
  it('builds once, then loads the saved classifier on the next run', async () => {
    const cacheDir = await tempDir('cache');
    const first = textCounting();
    const a = await runZeroShotEval(options({ model: first, cacheDir }));
    expect(a.timing.classifierCached).toBe(false);
    expect(first.texts).toBe(CLASS_NAMES.length * TEMPLATES.length);
    const files = await readdir(cacheDir);
    expect(files).toEqual([expect.stringMatching(/^classifier-[0-9a-f]{32}\.safetensors$/)]);
    const saved = await readSafetensors(join(cacheDir, files[0]));
    expect(saved.tensors.classifier.shape).toEqual([8, 6]);
    expect(saved.metadata).toMatchObject({ modelId: 'tiny-clip', classes: '6', templates: '2' });
    expect(saved.metadata.templatesHash).toMatch(/^[0-9a-f]{64}$/);
    tf.dispose(Object.values(saved.tensors));

    const second = textCounting();
    const b = await runZeroShotEval(options({ model: second, cacheDir }));
    expect(b.timing.classifierCached).toBe(true);
    expect(b.timing.classifierSeconds).toBeLessThan(1);
    expect(second.texts).toBe(0);
    expect(b.predictions).toEqual(a.predictions);
  });

  it('keys the cache on model, classes and templates', () => {
    const file = (id: string, names: string[], templates: string[]) =>
      classifierCacheFile('/c', id, names, templates);
    const base = file('m', ['a', 'b'], ['{}']);
    expect(file('m', ['a', 'b'], ['{}'])).toBe(base);
    expect(file('m2', ['a', 'b'], ['{}'])).not.toBe(base);
    expect(file('m', ['b', 'a'], ['{}'])).not.toBe(base);
    expect(file('m', ['a', 'b'], ['a {}'])).not.toBe(base);
  });

  it.each([
    ['garbage bytes', Buffer.from('definitely not safetensors')],
    ['an empty file', Buffer.alloc(0)],
  ])('rebuilds a corrupt cache file (%s) with a warning, and repairs it', async (_, bytes) => {
    const cacheDir = await tempDir('corrupt');
    const file = classifierCacheFile(cacheDir, 'tiny-clip', CLASS_NAMES, TEMPLATES);
    await writeFile(file, bytes);
    const warnings: string[] = [];
    const r = await runZeroShotEval(options({ cacheDir, onWarning: (m) => warnings.push(m) }));
    expect(r.timing.classifierCached).toBe(false);
    expect(r.metrics.top1).toBe(1);
    expect(warnings).toEqual([expect.stringContaining(`Ignoring the classifier cache (${file}`)]);
    expect(r.warnings).toEqual(warnings);
    const again = await runZeroShotEval(options({ cacheDir, onWarning: (m) => warnings.push(m) }));
    expect(again.timing.classifierCached).toBe(true);
    expect(warnings).toHaveLength(1);
  });

  it('rebuilds a readable cache file that belongs to something else', async () => {
    const cacheDir = await tempDir('foreign');
    const names = CLASS_NAMES.slice(0, 2);
    const built = await loadOrBuildClassifier(model, names, ['{}'], { modelId: 'm', cacheDir });
    // Put that (valid) file where another key's classifier belongs.
    const other = classifierCacheFile(cacheDir, 'm', names, ['a {}']);
    await writeFile(other, await import('node:fs/promises').then((fs) => fs.readFile(built.file!)));
    const warnings: string[] = [];
    const r = await loadOrBuildClassifier(model, names, ['a {}'], {
      modelId: 'm',
      cacheDir,
      onWarning: (m) => warnings.push(m),
    });
    expect(r.cached).toBe(false);
    expect(warnings[0]).toMatch(/key does not match/);
    const reference = await buildZeroShotClassifier(model, names, ['a {}']);
    expect(Array.from(r.classifier.dataSync())).toEqual(Array.from(reference.dataSync()));
    tf.dispose([built.classifier, r.classifier, reference]);
  });

  it('with cacheDir null builds every time and writes nothing', async () => {
    const counting = textCounting();
    await runZeroShotEval(options({ model: counting, cacheDir: null }));
    await runZeroShotEval(options({ model: counting, cacheDir: null }));
    expect(counting.texts).toBe(2 * CLASS_NAMES.length * TEMPLATES.length);
  });
});

describe('concurrent runs', () => {
  it('build one classifier: a second process-to-be waits on the entry lock and loads it', async () => {
    const cacheDir = await tempDir('concurrent');
    const counting = textCounting();
    const waits: number[] = [];
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        loadOrBuildClassifier(counting, CLASS_NAMES, TEMPLATES, {
          modelId: 'tiny-clip',
          cacheDir,
          onWait: (h) => waits.push(h.pid),
        }),
      ),
    );
    expect(counting.texts).toBe(CLASS_NAMES.length * TEMPLATES.length);
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
    expect(waits).toEqual([process.pid]);
    expect(Array.from(b.classifier.dataSync())).toEqual(Array.from(a.classifier.dataSync()));
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.lock'))).toEqual([]);
    tf.dispose([a.classifier, b.classifier]);
  });

  it('refuse a second evaluation of the same work dir while the first runs, naming it', async () => {
    const workDir = await tempDir('locked');
    const results = await Promise.allSettled([
      runZeroShotEval(options({ workDir, batchSize: 2 })),
      runZeroShotEval(options({ workDir, batchSize: 2 })),
    ]);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    const error = (failed[0] as PromiseRejectedResult).reason as { code: string; message: string };
    expect(error.code).toBe('work-dir-locked');
    expect(error.message).toMatch(`the work dir ${workDir} is in use by process ${process.pid}`);
    const lines = (await readFile(join(workDir, 'predictions.jsonl'), 'utf8')).trim().split('\n');
    expect(new Set(lines.map((l) => JSON.parse(l).batch)).size).toBe(lines.length); // no batch twice
    // Released at the end: the work dir can be resumed.
    const again = await runZeroShotEval(options({ workDir, batchSize: 2, resume: true }));
    expect(again.counts.evaluated).toBe(ds.items.length);
  });
});
