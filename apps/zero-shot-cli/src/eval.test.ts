import { readFile, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COLOUR_NAMES,
  type ColourDataset,
  type Layout,
  STACK_TRACE,
  TINY_CLIP,
  colourDataset,
  removeTempDirs,
  run,
  tempDir,
} from './cli.test.helpers.js';

let cache: string;
beforeAll(async () => {
  cache = await tempDir('cache');
});
afterAll(removeTempDirs);

/** The flags every tiny-CLIP evaluation shares: the fixture, the colour classes, one template. */
function tiny(ds: ColourDataset, ...extra: string[]): string[] {
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
    cache,
    '--quiet',
    ...extra,
  ];
}

describe('zero-shot eval with the tiny CLIP fixture', () => {
  it.each<Layout>(['folders', 'kaggle', 'labels', 'imagenetv2'])(
    'classifies every square by its colour in the %s layout, printing only JSON with --json',
    async (layout) => {
      const ds = await colourDataset(layout);
      const r = await run(tiny(ds, '--layout', layout, '--json', '--batch-size', '5'));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const json = JSON.parse(r.out);
      expect(Object.keys(json)).toEqual(
        expect.arrayContaining([
          'dataset',
          'model',
          'metrics',
          'templates',
          'classes',
          'counts',
          'timing',
          'shard',
        ]),
      );
      expect(json).not.toHaveProperty('predictions');
      expect(json.model).toBe(TINY_CLIP);
      expect(json.classes).toBe(4);
      expect(json.templates).toBe(1);
      expect(json.shard).toBeNull();
      expect(json.metrics.top1).toBe(1);
      expect(json.metrics.top5).toBeNull(); // 4 classes: top-5 is undefined, not 1
      expect(json.metrics.meanPerClassRecall).toBe(1);
      expect(json.metrics.perClassRecall).toEqual([1, 1, 1, 1]);
      expect(json.counts).toMatchObject({ items: 12, evaluated: 12, skipped: 0, skippedFiles: [] });
      expect(json.timing.imagesPerSecond).toBeGreaterThan(0);
    },
  );

  it('prints a table, writes --out and --predictions, and reports a corrupt JPEG as skipped', async () => {
    const ds = await colourDataset('folders', { corrupt: true, wrong: 1 });
    const dir = await tempDir('out');
    const out = join(dir, 'results.json');
    const csv = join(dir, 'preds.csv');
    const r = await run(tiny(ds, '--out', out, '--predictions', csv));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/top-1\s+66\.67%/);
    expect(r.out).toMatch(/top-5\s+n\/a \(< 5 classes\)/);
    expect(r.out).toMatch(/mean per-class recall\s+66\.67%/);
    expect(r.out).toMatch(/images\/s\s+\d/);
    expect(r.out).toMatch(/wall time\s+\d/);
    expect(r.out).toMatch(/skipped\s+1 unreadable file/);
    expect(r.out).toContain(join(ds.root, 'red', 'broken.jpg'));
    const saved = JSON.parse(await readFile(out, 'utf8'));
    expect(saved.predictions).toHaveLength(12);
    expect(saved.counts.skippedFiles[0].id).toBe(join(ds.root, 'red', 'broken.jpg'));
    const rows = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(rows[0]).toMatch(/^file,true,top1,score1,top2,score2,top3,score3,top4,score4/);
    expect(rows).toHaveLength(13);
    // Rows follow the sorted folders (blue first); the first square of each folder has the next colour.
    expect(rows[1].startsWith(`${join(ds.root, 'blue', 'img_0006.png')},blue,yellow,`)).toBe(true);
    expect(rows.find((l) => l.includes('img_0000.png'))).toMatch(/,red,green,/);
    expect(rows.find((l) => l.includes('img_0001.png'))).toMatch(/,red,red,/);
  });

  it('reads templates from a file and decodes with --threads', async () => {
    const ds = await colourDataset('labels', { perClass: 2 });
    const file = join(await tempDir('templates'), 'colour-templates.txt');
    await writeFile(file, '# two prompts\na photo of a {}.\na {} square.\n');
    const argv = tiny(ds, '--threads', '2', '--json').map((a) => (a === 'a photo of a {}.' ? file : a));
    const r = await run(argv);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({
      templates: 2,
      templatesName: 'colour-templates.txt',
      counts: { evaluated: 8 },
    });
    expect(json.metrics.top1).toBe(1);
  });

  it('exits 1 on the corrupt JPEG with --strict', async () => {
    const ds = await colourDataset('folders', { perClass: 1, corrupt: true });
    const r = await run(tiny(ds, '--strict'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read .*broken\.jpg.*strict/);
    expect(r.err).not.toMatch(STACK_TRACE);
  });

  it('merges --shard 0/2 and 1/2 into exactly the single run', async () => {
    const ds = await colourDataset('folders', { perClass: 5, wrong: 2 });
    const dir = await tempDir('shards');
    const parts = [0, 1].map((i) => join(dir, `part${i}.json`));
    for (const [i, part] of parts.entries()) {
      const r = await run(tiny(ds, '--shard', `${i}/2`, '--out', part, '--json'));
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).shard).toEqual({ index: i, count: 2, source: 'flag' });
    }
    const merged = await run(['merge', ...parts, '--json', '--out', join(dir, 'merged.json')]);
    expect(merged.code, merged.err).toBe(0);
    const single = await run(tiny(ds, '--json'));
    const m = JSON.parse(merged.out);
    const s = JSON.parse(single.out);
    expect(m.metrics).toEqual(s.metrics);
    expect(m.metrics.top1).toBeCloseTo(0.6, 10);
    expect(m.counts).toEqual(s.counts);
    expect(m.shard).toBeNull();
    const table = await run(['merge', ...parts]);
    expect(table.out).toMatch(/merged 2 shards: top-1 60\.00%/);
    const missing = await run(['merge', parts[0]]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/missing shard\(s\) 1\/2/);
  });

  it('classifies single images with --labels', async () => {
    const ds = await colourDataset('folders', { perClass: 1 });
    const images = COLOUR_NAMES.slice(0, 2).map((c, i) => join(ds.root, c, `img_000${i}.png`));
    const r = await run([
      'classify',
      ...images,
      '--labels',
      'red,green,blue',
      '--model',
      TINY_CLIP,
      '--no-cache',
      '--top',
      '2',
      '--json',
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.results.map((x: { top: Array<{ label: string }> }) => x.top[0].label)).toEqual([
      'red',
      'green',
    ]);
    expect(json.results[0].top).toHaveLength(2);
    expect(json.results[0].top[0].probability).toBeGreaterThan(0.5);
    const text = await run([
      'classify',
      images[1],
      '--labels',
      'red,green',
      '--model',
      TINY_CLIP,
      '--no-cache',
      '--quiet',
    ]);
    expect(text.out).toMatch(/^\s+\d+\.\d%\s+green$/m);
  });
});

describe('zero-shot eval input errors: exit 2, one sentence, no stack trace', () => {
  let ds: ColourDataset;
  let dir: string;
  beforeAll(async () => {
    ds = await colourDataset('folders', { perClass: 1 });
    dir = await tempDir('errors');
  });

  const cases: Array<[string, () => Promise<string[]>, RegExp]> = [
    [
      'a missing LIMoE file',
      async () => tiny(ds).map((a) => (a === TINY_CLIP ? './no/such/model.safetensors' : a)),
      /the model file .*model\.safetensors does not exist; check the path/,
    ],
    [
      'a missing model folder',
      async () => tiny(ds).map((a) => (a === TINY_CLIP ? '/no/such/clip-folder' : a)),
      /Model folder not found: \/no\/such\/clip-folder/,
    ],
    [
      'a model folder without its files',
      async () => {
        const folder = join(dir, 'half-model');
        await mkdir(folder, { recursive: true });
        await copyFile(join(TINY_CLIP, 'config.json'), join(folder, 'config.json'));
        return tiny(ds).map((a) => (a === TINY_CLIP ? folder : a));
      },
      /half-model.*tokenizer\.json/,
    ],
    [
      'a templates file with a line without {}',
      async () => {
        const file = join(dir, 'bad-templates.txt');
        await writeFile(file, 'a photo of a {}.\na photo\n');
        return tiny(ds).map((a) => (a === 'a photo of a {}.' ? file : a));
      },
      /--templates: 1 line\(s\) of .*bad-templates\.txt have no \{\} placeholder/,
    ],
    [
      'an unknown layout',
      async () => tiny(ds, '--layout', 'flat'),
      /--layout must be one of auto, folders, kaggle, labels, imagenetv2, got "flat"/,
    ],
    [
      'an empty data folder',
      async () => {
        const empty = join(dir, 'empty');
        await mkdir(empty, { recursive: true });
        return tiny(ds).map((a) => (a === ds.root ? empty : a));
      },
      /empty/i,
    ],
    [
      'classes that do not match the folders',
      async () => {
        const file = join(dir, 'three.txt');
        await writeFile(file, 'red\ngreen\nblue\n');
        return tiny(ds).map((a) => (a === ds.classesFile ? file : a));
      },
      /not among the 3 given class names: yellow/,
    ],
    ['--out naming a folder', async () => tiny(ds, '--out', dir), /--out: .* is a folder/],
    [
      '--predictions in a missing folder',
      async () => tiny(ds, '--predictions', join(dir, 'nope', 'p.csv')),
      /--predictions: cannot write .*p\.csv because the folder .*nope does not exist/,
    ],
    [
      'a bad router plugin',
      async () => tiny(ds, '--router-plugin', './no-such-plugin.js'),
      /--router-plugin: Cannot load router plugin "\.\/no-such-plugin\.js": not found/,
    ],
    ['a malformed --shard', async () => tiny(ds, '--shard', '2/2'), /--shard must be "i\/n" with 0 ≤ i < n/],
    ['--shard without a slash', async () => tiny(ds, '--shard', 'first'), /--shard must be "i\/n"/],
    [
      '--resume without a work dir',
      async () =>
        tiny(ds, '--resume', '--no-cache').filter(
          (a, i, all) => a !== '--cache-dir' && all[i - 1] !== '--cache-dir',
        ),
      /--resume needs a work dir/,
    ],
    ['a missing --model', async () => ['eval', '--data', ds.root], /--model is required/],
    ['an unknown --dtype', async () => tiny(ds, '--dtype', 'fp64'), /--dtype: Unknown dtype "fp64"/],
  ];

  it.each(cases)('%s', async (_name, argv, message) => {
    const r = await run(await argv());
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/^zero-shot: /);
    expect(r.err).not.toMatch(STACK_TRACE);
    expect(r.out).toBe('');
  });
});
