import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTransformersClip } from '../clip/transformers_clip.js';
import { FIXTURE_DIR } from '../clip/tiny_clip.test.helpers.js';
import type { ImageDataset } from '../data/image_dataset.js';
import { loadImageFolderDataset } from '../data/image_folder.js';
import type { ImageTextModel } from '../model/image_text_model.js';
import { ZeroShotEvalError } from './eval_error.js';
import type { ZeroShotEvalOptions } from './eval_options.js';
import type { ZeroShotEvalResult } from './eval_result.js';
import {
  ORANGE,
  TEMPLATES,
  countingModel,
  removeTempDirs,
  tempDir,
  writeColourFolder,
} from './eval.test.helpers.js';
import { imageDatasetSource } from './image_dataset_source.js';
import { formatShardList, mergeZeroShotResults, shardCoverage } from './merge.js';
import { readEvalResult, writeEvalResult } from './result_files.js';
import { runZeroShotEval } from './run_eval.js';
import { workDirFiles } from './work_dir.js';

let model: ImageTextModel;
let ds: ImageDataset;
let single: ZeroShotEvalResult;

beforeAll(async () => {
  model = await loadTransformersClip(FIXTURE_DIR);
  const root = await tempDir('shards');
  await writeColourFolder(root, {
    blue: ['blue', 'blue', 'blue', 'cyan'],
    cyan: ['cyan', 'cyan', 'cyan'],
    green: ['green', 'green', 'green', 'green'],
    magenta: ['magenta', 'magenta', 'red'],
    red: ['red', 'red', 'red', ORANGE],
    yellow: ['yellow', 'yellow', 'yellow'],
  });
  ds = await loadImageFolderDataset(root);
  single = await runZeroShotEval(options());
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
    batchSize: 4,
    cacheDir: null,
    ...extra,
  };
}

/** What must not depend on how the work was split. */
function outcome(r: ZeroShotEvalResult) {
  return { metrics: r.metrics, counts: r.counts, predictions: r.predictions, sampling: r.sampling };
}

describe('shards', () => {
  it.each([2, 3])('%i shards merged equal a single run exactly', async (count) => {
    expect(single.metrics.top1).toBeCloseTo(18 / 21, 12); // the cyan, red and orange strays
    const parts = [];
    for (let index = 0; index < count; index++) {
      parts.push(await runZeroShotEval(options({ shard: { index, count } })));
    }
    expect(parts.map((p) => p.counts.items).reduce((a, b) => a + b)).toBe(21);
    for (const p of parts) expect(p.shard?.count).toBe(count);
    const merged = mergeZeroShotResults(parts);
    expect(outcome(merged)).toEqual(outcome(single));
    expect(merged.shard).toBeUndefined();
  });

  it('merges shard files of a limited sample, and refuses shards that do not fit together', async () => {
    const dir = await tempDir('merge');
    const run = (index: number, extra: Partial<ZeroShotEvalOptions> = {}) =>
      runZeroShotEval(options({ limit: 12, seed: 5, shard: { index, count: 3 }, ...extra }));
    const files = [];
    for (let i = 0; i < 3; i++) {
      files.push(join(dir, `shard${i}.json`));
      await writeEvalResult(files[i], await run(i));
    }
    const parts = await Promise.all(files.map(readEvalResult));
    const whole = await runZeroShotEval(options({ limit: 12, seed: 5 }));
    expect(outcome(mergeZeroShotResults(parts))).toEqual(outcome(whole));

    const fails = (p: ZeroShotEvalResult[], message: RegExp) => {
      expect(() => mergeZeroShotResults(p)).toThrow(ZeroShotEvalError);
      expect(() => mergeZeroShotResults(p)).toThrow(message);
    };
    fails([parts[0], parts[2]], /missing shard\(s\) 1\/3: all 3 are needed/);
    fails([parts[0], parts[1], parts[1]], /shard 1\/3 is given twice \(part 1 and part 2\)/);
    // Every problem at once, by index: two duplicates and a missing shard in one message.
    fails(
      [parts[0], parts[0], parts[1], parts[1]],
      /shard 0\/3 is given twice \(part 0 and part 1\); shard 1\/3 is given twice \(part 2 and part 3\); missing shard\(s\) 2\/3/,
    );
    fails([parts[0], parts[1], await run(2, { modelId: 'other' })], /differ on model/);
    fails([parts[0], parts[1], await run(2, { seed: 6 })], /differ on sampling/);
    fails([parts[0], single], /differ on sampling, shardCount/);
    // Another dataset with the same name and counts (other images, or other labels): its item list differs.
    const otherData = { ...parts[2], hashes: { ...parts[2].hashes, items: 'another item list' } };
    fails([parts[0], parts[1], otherData], /differ on itemsHash/);
    const otherWeights = { ...parts[2], hashes: { ...parts[2].hashes, model: 'another model file' } };
    fails([parts[0], parts[1], otherWeights], /differ on modelHash/);
    const overlapping = { ...parts[2], predictions: [...parts[2].predictions, parts[0].predictions[0]] };
    fails([parts[0], parts[1], overlapping], /item \d+ \(.*\) is in both part 0 \(shard 0\/3\) and part 2/);
  });

  it('names every part of another run by file and shard, grouped by run', async () => {
    const run = (index: number, extra: Partial<ZeroShotEvalOptions> = {}) =>
      runZeroShotEval(options({ limit: 12, seed: 5, shard: { index, count: 3 }, ...extra }));
    const one = await run(1);
    const stale = { ...one, hashes: { ...one.hashes, model: 'older weights' } };
    const parts = [await run(0), stale, await run(2), one];
    const names = ['r-0.json', 'old/r-1.json', 'r-2.json', 'r-1.json'];
    let message = '';
    try {
      mergeZeroShotResults(parts, { names });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('they come from 2 runs that differ on modelHash');
    expect(message).toContain(
      'r-0.json (shard 0/3), r-2.json (shard 2/3), r-1.json (shard 1/3) have modelHash',
    );
    expect(message).toContain('old/r-1.json (shard 1/3) has modelHash "older weights"');
    // Without the stale file the same parts merge, and file names appear in coverage problems too.
    expect(() => mergeZeroShotResults([parts[0], parts[2]], { names: ['r-0.json', 'r-2.json'] })).toThrow(
      'missing shard(s) 1/3: all 3 are needed.',
    );
    expect(mergeZeroShotResults([parts[0], parts[3], parts[2]]).counts.items).toBe(12);
  });

  it('shardCoverage lists present, missing and duplicate indices of the first shard count', () => {
    const s = (index: number, count = 4) => ({ index, count });
    expect(shardCoverage([s(2), s(0), s(2), undefined, s(2)])).toEqual({
      count: 4,
      present: [0, 2],
      missing: [1, 3],
      duplicates: [{ index: 2, parts: [0, 2, 4] }],
    });
    expect(shardCoverage([undefined])).toEqual({ count: 0, present: [], missing: [], duplicates: [] });
    expect(formatShardList([1, 3], 4)).toBe('1/4, 3/4');
  });
});

describe('resume', () => {
  it('continues after an abort without recomputing finished batches, with identical results', async () => {
    const workDir = await tempDir('resume');
    const first = countingModel(model);
    const controller = new AbortController();
    const stopped = runZeroShotEval(
      options({
        model: first,
        workDir,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.phase === 'images' && e.done >= 4) controller.abort();
        },
      }),
    );
    await expect(stopped).rejects.toMatchObject({
      code: 'aborted',
      message: expect.stringContaining(workDir),
    });
    expect(first.imageBatches).toEqual([4]);
    const lines = (await readFile(workDirFiles(workDir).predictions, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);

    const second = countingModel(model);
    const progress: number[] = [];
    const resumed = await runZeroShotEval(
      options({
        model: second,
        workDir,
        resume: true,
        onProgress: (e) => e.phase === 'images' && progress.push(e.done),
      }),
    );
    // 21 items in batches of 4: the first batch came from the work dir, the other five were embedded.
    expect(second.imageBatches).toEqual([4, 4, 4, 4, 1]);
    expect(progress).toEqual([4, 8, 12, 16, 20, 21]);
    expect(outcome(resumed)).toEqual(outcome(single));

    // Resuming a finished run embeds nothing at all.
    const third = countingModel(model);
    const again = await runZeroShotEval(options({ model: third, workDir, resume: true }));
    expect(third.imageBatches).toEqual([]);
    expect(outcome(again)).toEqual(outcome(single));
  });

  it('recomputes a batch whose line was torn by a crash, and warns', async () => {
    const workDir = await tempDir('torn');
    const controller = new AbortController();
    await runZeroShotEval(
      options({ workDir, signal: controller.signal, onProgress: (e) => e.done >= 8 && controller.abort() }),
    ).catch(() => undefined);
    await appendFile(workDirFiles(workDir).predictions, '{"batch": 2, "predictions": [{"ind');
    const warnings: string[] = [];
    const counting = countingModel(model);
    const r = await runZeroShotEval(
      options({ model: counting, workDir, resume: true, onWarning: (m) => warnings.push(m) }),
    );
    expect(counting.imageBatches).toEqual([4, 4, 4, 1]);
    expect(warnings).toEqual([expect.stringMatching(/1 incomplete line\(s\) dropped/)]);
    expect(outcome(r)).toEqual(outcome(single));
  });

  it('refuses to resume a work dir that holds a different evaluation', async () => {
    const workDir = await tempDir('mismatch');
    await runZeroShotEval(options({ workDir, limit: 6 }));
    const other = runZeroShotEval(options({ workDir, resume: true, templates: ['{}'], limit: 6 }));
    await expect(other).rejects.toMatchObject({ code: 'work-dir-mismatch' });
    await expect(other).rejects.toThrow(/holds a different evaluation \(templatesHash was/);
    // Shards keep their own files, so they can share one work dir.
    await runZeroShotEval(options({ workDir, shard: { index: 1, count: 2 } }));
    expect(workDirFiles(workDir, { index: 1, count: 2 }).state).toMatch(/state\.shard-1-of-2\.json$/);
    await expect(readFile(workDirFiles(workDir, { index: 1, count: 2 }).state, 'utf8')).resolves.toContain(
      '"shard"',
    );
  });
});
