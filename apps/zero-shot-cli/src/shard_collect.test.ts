import { copyFile, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ColourDataset,
  TINY_CLIP,
  colourDataset,
  removeTempDirs,
  run,
  tempDir,
} from './cli.test.helpers.js';

let ds: ColourDataset;
let cache: string;
let single: { metrics: unknown; counts: unknown; predictions: unknown };

/** The flags every tiny-CLIP evaluation here shares, with the shared classifier cache. */
function tiny(...extra: string[]): string[] {
  return tinyWithCache(cache, ...extra);
}

function tinyWithCache(cacheDir: string, ...extra: string[]): string[] {
  return [
    'eval',
    '--model',
    TINY_CLIP,
    '--data',
    ds.root,
    '--classes',
    ds.classesFile,
    '--templates',
    'a photo of a {}.',
    '--cache-dir',
    cacheDir,
    '--batch-size',
    '4',
    '--quiet',
    ...extra,
  ];
}

/** Runs with `vars` set in process.env (in-process runs read it), restoring it afterwards. */
async function withEnv<T>(vars: Record<string, string>, action: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await action();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function slurmTask(id: number, count: number): Record<string, string> {
  return {
    SLURM_ARRAY_TASK_ID: String(id),
    SLURM_ARRAY_TASK_MIN: '0',
    SLURM_ARRAY_TASK_MAX: String(count - 1),
    SLURM_ARRAY_TASK_COUNT: String(count),
  };
}

/** Three shards as a Slurm array would run them, into `dir/results-{shard}.json`. */
async function threeShards(dir: string): Promise<string[]> {
  for (let i = 0; i < 3; i++) {
    const r = await withEnv(slurmTask(i, 3), () =>
      run(tiny('--shard', 'auto', '--out', join(dir, 'results-{shard}.json'))),
    );
    expect(r.code, r.err).toBe(0);
  }
  return [0, 1, 2].map((i) => join(dir, `results-${i}.json`));
}

beforeAll(async () => {
  ds = await colourDataset('folders', { perClass: 5, wrong: 2 });
  cache = await tempDir('collect-cache');
  const out = join(await tempDir('collect-single'), 'single.json');
  const r = await run(tiny('--out', out));
  expect(r.code, r.err).toBe(0);
  single = JSON.parse(await readFile(out, 'utf8'));
});
afterAll(removeTempDirs);

describe('eval --shard auto and {shard} in --out', () => {
  it('writes results-<index>.json with the shard and its source, and a work dir beside each', async () => {
    const dir = await tempDir('auto');
    const files = await threeShards(dir);
    expect((await readdir(dir)).sort()).toEqual([
      'results-0.json',
      'results-0.work',
      'results-1.json',
      'results-1.work',
      'results-2.json',
      'results-2.work',
    ]);
    for (const [i, file] of files.entries()) {
      expect(JSON.parse(await readFile(file, 'utf8')).shard).toEqual({ index: i, count: 3, source: 'slurm' });
    }
    const k8s = await withEnv({ JOB_COMPLETION_INDEX: '1', MOEVL_SHARD_COUNT: '3' }, () =>
      run(tiny('--shard', 'auto', '--json')),
    );
    expect(k8s.code, k8s.err).toBe(0);
    expect(JSON.parse(k8s.out).shard).toEqual({ index: 1, count: 3, source: 'kubernetes' });
    const plain = await withEnv({ MOEVL_SHARD: '2/3' }, () => run(tiny('--shard', 'auto', '--json')));
    expect(JSON.parse(plain.out).shard).toEqual({ index: 2, count: 3, source: 'env' });
  });

  it('exits 2 naming the variables when no scheduler set any, and refuses {shard} without a shard', async () => {
    const none = await run(tiny('--shard', 'auto'));
    expect(none.code).toBe(2);
    expect(none.err).toMatch(
      /--shard auto found no shard in the environment.*SLURM_ARRAY_TASK_ID.*JOB_COMPLETION_INDEX.*MOEVL_SHARD=I\/N/,
    );
    const placeholder = await run(tiny('--out', join(await tempDir('ph'), 'results-{shard}.json')));
    expect(placeholder.code).toBe(2);
    expect(placeholder.err).toMatch(/holds \{shard\}, which stands for the shard index/);
  });
});

describe('zero-shot merge of shard files', () => {
  it('takes a glob, expanded by itself, and equals the unsharded run', async () => {
    const dir = await tempDir('glob');
    await threeShards(dir);
    const out = join(dir, 'results.json');
    const r = await run(['merge', join(dir, 'results-*.json'), '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/merged 3 shards: top-1 60\.00%/);
    const merged = JSON.parse(await readFile(out, 'utf8'));
    expect(merged.metrics).toEqual(single.metrics);
    expect(merged.counts).toEqual(single.counts);
    expect(merged.predictions).toEqual(single.predictions);
    // Again with results.json beside the shards: a glob for results-* never matches it, a folder skips it.
    const folder = await run(['merge', dir, '--json']);
    expect(folder.code, folder.err).toBe(0);
    expect(folder.err).toContain(`skipped ${join(dir, 'results.json')} (a result, but not of a shard)`);
    expect(JSON.parse(folder.out).metrics).toEqual(single.metrics);
    const intoFolder = await run(['merge', dir, '--out', join(dir, 'merged.json'), '--quiet']);
    expect(intoFolder.code, intoFolder.err).toBe(0);
  });

  it('lists every missing and duplicate shard by index and file', async () => {
    const dir = await tempDir('holes');
    const [first] = await threeShards(dir);
    const copies = join(dir, 'again');
    await mkdir(copies);
    await copyFile(first, join(copies, 'results-0.json'));
    const dup = await run(['merge', join(dir, 'results-*.json'), join(copies, 'results-*.json')]);
    expect(dup.code).toBe(2);
    expect(dup.err).toContain(
      `shard 0/3 is given twice (${join(dir, 'results-0.json')} and ${join(copies, 'results-0.json')})`,
    );
    const holes = await run(['merge', join(copies, 'results-*.json')]);
    expect(holes.code).toBe(2);
    expect(holes.err).toContain('missing shard(s) 1/3, 2/3: all 3 are needed.');
    const nothing = await run(['merge', join(dir, 'nope-*.json')]);
    expect(nothing.code).toBe(2);
    expect(nothing.err).toContain(`no shard result in ${join(dir, 'nope-*.json')}`);
  });

  it('--wait polls until the last shard appears, or exits 1 listing what is missing', async () => {
    const done = await tempDir('wait-done');
    const files = await threeShards(done);
    const dir = await tempDir('wait');
    await copyFile(files[0], join(dir, 'results-0.json'));
    const timedOut = await run(['merge', join(dir, 'results-*.json'), '--wait', '1']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.err).toContain('merge --wait 1: timed out, missing shard(s) 1/3, 2/3 (1 of 3 there)');
    expect(timedOut.err).toContain(join(dir, 'results-0.json'));

    const started = Date.now();
    const merging = run(['merge', join(dir, 'results-*.json'), '--wait', '30', '--json']);
    // The shards land while merge polls, as a job array's tasks finish (renamed into place, as eval does).
    await new Promise((r) => setTimeout(r, 300));
    await copyFile(files[1], join(dir, '.results-1.json.tmp'));
    await rename(join(dir, '.results-1.json.tmp'), join(dir, 'results-1.json'));
    await new Promise((r) => setTimeout(r, 2500));
    await copyFile(files[2], join(dir, 'results-2.json'));
    const merged = await merging;
    expect(merged.code, merged.err).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(merged.err).toContain('missing shard(s) 1/3, 2/3');
    expect(merged.err).toContain('missing shard(s) 2/3 (2 of 3 there)');
    expect(JSON.parse(merged.out).metrics).toEqual(single.metrics);

    // Explicit files that do not exist yet are waited for too; without --wait they are an error at once.
    const later = join(await tempDir('wait-files'), 'b.json');
    const missing = await run(['merge', files[0], later]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`${later}: no such file`);
    const waitingForFile = await run(['merge', files[0], later, '--wait', '0']);
    expect(waitingForFile.code).toBe(1);
    expect(waitingForFile.err).toContain('missing shard(s) 1/3, 2/3');
  });

  it('refuses shards of another run, naming every one of them', async () => {
    const dir = await tempDir('foreign');
    const files = await threeShards(dir);
    const other = JSON.parse(await readFile(files[2], 'utf8'));
    other.hashes.model = 'f'.repeat(64);
    await writeFile(files[2], JSON.stringify(other));
    const r = await run(['merge', join(dir, 'results-*.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('they come from 2 runs that differ on modelHash');
    expect(r.err).toContain(`${files[0]} (shard 0/3), ${files[1]} (shard 1/3) have modelHash`);
    expect(r.err).toContain(`${files[2]} (shard 2/3) has modelHash "ffff`);
  });
});

describe('eval --classifier-only', () => {
  it('builds the classifier into the cache without reading an image; the run then loads it', async () => {
    const own = await tempDir('only-cache');
    const prepared = await run(tinyWithCache(own, '--classifier-only', '--json'));
    expect(prepared.code, prepared.err).toBe(0);
    const p = JSON.parse(prepared.out);
    expect(p).toMatchObject({ cached: false, classes: 4, templates: 1, warnings: [] });
    expect(p.file.startsWith(own)).toBe(true);
    expect((await readdir(own)).filter((f) => f.endsWith('.safetensors'))).toHaveLength(1);
    const again = await run(tinyWithCache(own, '--classifier-only'));
    expect(again.out).toMatch(/^classifier: 4 classes × 1 templates, already in the cache/);
    const evaluated = await run(tinyWithCache(own, '--json'));
    expect(JSON.parse(evaluated.out).timing.classifierCached).toBe(true);

    const conflicting = await run(tiny('--classifier-only', '--out', 'x.json', '--shard', '0/2'));
    expect(conflicting.code).toBe(2);
    expect(conflicting.err).toMatch(/--classifier-only reads no image .* so --out, --shard do not apply/);
  });
});
