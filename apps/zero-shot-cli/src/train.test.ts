import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '@moevl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_TRACE, removeTempDirs, run, tempDir } from './cli.test.helpers.js';
import { type PairsFixture, TINY_CONFIG, pairsFixture } from './train.test.helpers.js';

let fx: PairsFixture;
beforeAll(async () => {
  fx = await pairsFixture();
});
afterAll(removeTempDirs);

/** The arguments every run shares: the tiny config, small batches, the wasm engine, JSON out. */
const common = (out: string) => [
  '--model',
  fx.config,
  '--batch-size',
  '6',
  '--out',
  out,
  '--backend',
  'wasm',
];

async function train(args: string[]) {
  const r = await run(['train', ...args, '--json', '--quiet']);
  return { ...r, summary: r.code === 0 ? JSON.parse(r.out) : null };
}

describe('zero-shot train, end to end on generated RGB pairs', () => {
  it('CSV (open_clip keys, tab): trains, validates, writes model, curves and routing heatmap; eval loads it', async () => {
    const out = await tempDir('train-csv');
    const r = await train([
      ...['--train-data', fx.csv, '--csv-img-key', 'filepath', '--csv-caption-key', 'title'],
      ...['--val-data', fx.valCsv, '--val-every', '2', '--steps', '4', ...common(out)],
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.summary).toMatchObject({ model: join(out, 'model.safetensors'), steps: 4, batchSize: 6 });
    expect(r.summary.validation.pairs).toBe(8);
    for (const k of ['loss', 'image_to_text_R@1', 'image_to_text_R@5', 'text_to_image_mean_rank'])
      expect(Number.isFinite(r.summary.validation[k]), k).toBe(true);
    // The corrupt and the missing image were skipped and counted, not fatal.
    expect(r.summary.skipped.byReason).toMatchObject({ 'corrupt-image': 1, 'missing-image': 1 });
    for (const f of ['curves.svg', 'curves.png', 'routing.json', 'routing-block1.svg', 'summary.json'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const log = (await readFile(join(out, 'checkpoints', 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.filter((l) => 'val_loss' in l).map((l) => l.step)).toEqual([2, 4]);

    const e = await run([
      ...['eval', '--model', join(out, 'model.safetensors'), '--data', fx.folder],
      ...['--templates', 'a photo of a {} square', '--no-cache', '--json', '--quiet', '--backend', 'wasm'],
    ]);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out).counts.evaluated).toBe(12);
  });

  it('JSONL, and the human summary names the validation-free run and how to evaluate it', async () => {
    const out = await tempDir('train-jsonl');
    const r = await run([
      'train',
      '--train-data',
      fx.jsonl,
      '--dataset-type',
      'jsonl',
      '--steps',
      '3',
      ...common(out),
      '--quiet',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^trained tiny\.json for 3 steps in /);
    expect(r.out).toMatch(/skipped training samples: none/);
    expect(r.out).toContain(
      `evaluate it: zero-shot eval --model ${join(out, 'model.safetensors')} --data FOLDER`,
    );
  });

  it('WebDataset shards with zero-shot top-1 on an image folder during training', async () => {
    const out = await tempDir('train-wds');
    const r = await train([
      ...['--train-data', fx.shards, '--steps', '4', '--zeroshot-data', fx.folder, '--zeroshot-every', '2'],
      ...common(out),
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.summary.zeroShot).toMatchObject({ images: 12, classes: 4 });
    expect(r.summary.skipped.byReason).toMatchObject({ 'corrupt-image': 1 });
    const log = (await readFile(join(out, 'checkpoints', 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.filter((l) => 'zeroshot_top1' in l).map((l) => l.step)).toEqual([2, 4]);
  });
});

describe('a router of your own', () => {
  it('trains through --router-plugin + --router (with its own option), and eval loads the model with the plugin', async () => {
    // Inside the repository, so the plugin resolves @moevl/router as a user's project would.
    const root = fileURLToPath(new URL('../../../.tmp/', import.meta.url));
    await mkdir(root, { recursive: true });
    const dir = await mkdtemp(join(root, 'router-plugin-'));
    try {
      const plugin = join(dir, 'sharp_top1.mjs');
      await writeFile(
        plugin,
        `import { defaultRouterRegistry } from '@moevl/router';
const topK = () => defaultRouterRegistry.get('top-k');
export default {
  specificationVersion: 'v1',
  name: 'sharp-top1',
  version: '0.1.0',
  description: 'top-1 routing with a capacity factor of its own (a user plugin)',
  validateOptions({ sharpness = 1, ...rest }) {
    if (typeof sharpness !== 'number' || sharpness <= 0) throw new Error('router "sharp-top1": option sharpness must be > 0, got ' + sharpness);
    return { ...topK().validateOptions({ ...rest, k: 1, capacityFactor: 1 + sharpness }), sharpness };
  },
  create({ sharpness: _s, ...options }) { return topK().create(options); },
};
`,
      );
      const out = join(dir, 'run');
      const r = await train([
        ...['--train-data', fx.csv, '--steps', '2', '--router-plugin', plugin, '--router', 'sharp-top1'],
        ...['--router-option', 'sharpness=0.5', ...common(out)],
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.summary.router).toEqual({ name: 'sharp-top1', options: { sharpness: 0.5 } });
      const e = await run([
        ...[
          'eval',
          '--model',
          join(out, 'model.safetensors'),
          '--data',
          fx.folder,
          '--router-plugin',
          plugin,
        ],
        ...['--templates', 'a photo of a {} square', '--no-cache', '--json', '--quiet', '--backend', 'wasm'],
      ]);
      expect(e.code, e.err).toBe(0);
      const bad = await train([
        '--train-data',
        fx.csv,
        '--steps',
        '1',
        '--router-plugin',
        plugin,
        '--router',
        'sharp-top1',
        '--router-option',
        'sharpness=-1',
        ...common(join(dir, 'x')),
      ]);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--router-option: router "sharp-top1": option sharpness must be > 0, got -1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** `zero-shot train` in a process of its own (the compiled CLI), as a user runs it. */
function spawnTrain(args: string[], onCheckpoint?: (step: number, kill: () => void) => void, dir?: string) {
  const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'train', ...args, '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += String(c)));
  let timer: NodeJS.Timeout | undefined;
  if (onCheckpoint && dir) {
    timer = setInterval(async () => {
      const names = await readdir(join(dir, 'checkpoints')).catch(() => [] as string[]);
      const steps = names
        .map((n) => /^step-(\d+)\.safetensors$/.exec(n))
        .filter((m) => m)
        .map((m) => Number(m![1]));
      if (steps.length > 0) onCheckpoint(Math.max(...steps), () => child.kill('SIGKILL'));
    }, 10);
  }
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }>((done) =>
    child.on('close', (code, signal) => {
      clearInterval(timer);
      done({ code, signal, err });
    }),
  );
}

async function weights(path: string): Promise<Record<string, number[]>> {
  const { tensors } = await readSafetensors(path);
  const out = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, Array.from(t.dataSync())]));
  tf.dispose(Object.values(tensors));
  return out;
}

it('killed (SIGKILL) mid-shard and resumed: the final weights equal an uninterrupted run', async () => {
  // 3 shards of 8 (+1 corrupt sample in the first), batches of 5 and a shuffle buffer of 3: steps end in
  // the middle of shards, with samples of the shard being read still in the buffer.
  const args = (out: string) => [
    '--shuffle-buffer',
    '3',
    '--train-data',
    fx.shards,
    '--steps',
    '14',
    '--checkpoint-every',
    '1',
    '--model',
    fx.config,
    '--batch-size',
    '5',
    '--out',
    out,
    '--backend',
    'wasm',
  ];
  const whole = await tempDir('whole');
  const a = await spawnTrain(args(whole));
  expect(a.code, a.err).toBe(0);
  const cut = await tempDir('killed');
  let killedAt = 0;
  const b = await spawnTrain(
    args(cut),
    (step, kill) => {
      if (step >= 3 && killedAt === 0) {
        killedAt = step;
        kill();
      }
    },
    cut,
  );
  expect(b.signal, b.err).toBe('SIGKILL');
  expect(killedAt).toBeGreaterThanOrEqual(3);
  expect(killedAt).toBeLessThan(12); // well before the end: the resumed run has steps left to take
  expect(existsSync(join(cut, 'model.safetensors'))).toBe(false); // it really stopped before the end
  const c = await spawnTrain([...args(cut), '--resume']);
  expect(c.code, c.err).toBe(0);
  const [wa, wc] = [
    await weights(join(whole, 'model.safetensors')),
    await weights(join(cut, 'model.safetensors')),
  ];
  expect(Object.keys(wc).sort()).toEqual(Object.keys(wa).sort());
  for (const k of Object.keys(wa)) expect(wc[k], k).toEqual(wa[k]);
}, 120_000);

describe('zero-shot train: mistakes get one clear message and exit 2', () => {
  const base = () => [
    'train',
    '--train-data',
    fx.csv,
    '--steps',
    '1',
    '--out',
    join(fx.dir, 'never'),
    '--quiet',
  ];

  it('an unknown model name says which preset it is closest to', async () => {
    const r = await run([...base(), '--model', 'limoe-ti16']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /Unknown model config "limoe-ti16" \(did you mean "limoe-ti-16"\?\); the presets are /,
    );
    expect(r.err).not.toMatch(STACK_TRACE);
  });

  it('a config file that does not validate names the file and the field', async () => {
    const bad = join(fx.dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...TINY_CONFIG, model: { ...TINY_CONFIG.model, dim: 'wide' } }));
    const r = await run([...base(), '--model', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}: field model.dim must be a positive integer, got "wide".`);
  });

  it('--router naming no strategy: did you mean, and the --router-plugin flag', async () => {
    const r = await run([...base(), '--model', fx.config, '--router', 'top-kk']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /--router top-kk: no such router strategy \(did you mean "top-k"\?\); available: .*--router-plugin/,
    );
  });

  it('a router option the strategy does not take is named', async () => {
    const r = await run([...base(), '--model', fx.config, '--router-option', 'capacityFactr=2']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--router-option: router "top-k": unknown option capacityFactr; options are /);
    const form = await run([...base(), '--model', fx.config, '--router-option', 'k']);
    expect(form.err).toMatch(/--router-option must be key=value/);
  });

  it('a missing column is named with the columns present', async () => {
    const r = await run([...base(), '--model', fx.config, '--csv-caption-key', 'caption']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/caption/);
    expect(r.err).toMatch(/filepath.*title|title.*filepath/);
  });

  it('zero-shot prompts that would not fit the text context are refused before training', async () => {
    const short = join(fx.dir, 'short.json');
    await writeFile(
      short,
      JSON.stringify({ ...TINY_CONFIG, model: { ...TINY_CONFIG.model, contextLength: 8 } }),
    );
    const r = await run([...base(), '--model', short, '--zeroshot-data', fx.folder]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /The zero-shot prompts of .*folder do not fit the model's text context: ".*" is \d+ tokens .* more than its contextLength 8; raise model\.contextLength/,
    );
  });

  it('--steps and --epochs together, --val-every without --val-data, --router on a dense model', async () => {
    const both = await run([...base(), '--model', fx.config, '--epochs', '1']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--steps N or as --epochs E \(one of them\)/);
    const val = await run([...base(), '--model', fx.config, '--val-every', '2']);
    expect(val.err).toMatch(/--val-every needs --val-data/);
    const dense = await run([...base(), '--model', 'dense-ti-16', '--router', 'top-k']);
    expect(dense.code).toBe(2);
    expect(dense.err).toMatch(/--router needs a model with MoE layers; dense-ti-16 is dense/);
  });

  it('zero-shot models lists the configs; train --help lists every flag', async () => {
    const m = await run(['models']);
    expect(m.out).toMatch(/model configs \(zero-shot train --model NAME\):\n {2}dense-b-16 /);
    expect(m.out).toMatch(/^ {2}limoe-cpu-tiny +LIMoE for CPUs/m);
    const json = JSON.parse((await run(['models', '--json'])).out);
    const limoe = json.families.find((f: { name: string }) => f.name === 'limoe');
    expect(limoe.configs.map((c: { name: string }) => c.name)).toContain('two-tower-s-16');
    const help = (await run(['train', '--help'])).out;
    for (const flag of [
      '--train-data',
      '--val-data',
      '--dataset-type',
      '--csv-img-key',
      '--csv-caption-key',
      '--csv-separator',
      '--model',
      '--router',
      '--router-option',
      '--router-plugin',
      '--batch-size',
      '--lr',
      '--wd',
      '--warmup',
      '--steps',
      '--epochs',
      '--seed',
      '--out',
      '--resume',
      '--checkpoint-every',
      '--zeroshot-data',
      '--zeroshot-every',
      '--val-every',
    ])
      expect(help).toContain(flag);
  });
});
