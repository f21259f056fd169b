import * as tf from '@tensorflow/tfjs';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../io/safetensors_file.js';
import { Dense } from '../../layers/dense.js';
import { TransformerBlock } from '../../layers/transformer_block.js';
import { softmaxCrossEntropy } from '../../ops/softmax_cross_entropy.js';
import { describeEachBackend } from '../../testing/index.js';
import { AdamW } from '../adamw.js';
import { Rng } from '../rng.js';
import { warmupCosine } from '../schedule.js';
import { BatchOrder } from './batch_order.js';
import { loadTrainingCheckpoint } from './checkpoint.js';
import { JsonlLog } from './jsonl_log.js';
import { Progress } from './progress.js';
import { TrainingRunExistsError, TrainingRunMismatchError } from './run_identity.js';
import {
  type RunTrainingOptions,
  TrainingDivergedError,
  TrainingStoppedError,
  runTraining,
} from './run_training.js';

const root = await mkdtemp(join(tmpdir(), 'moevl-run-'));
afterAll(() => rm(root, { recursive: true, force: true }));

/** A tiny transformer classifier on 40 synthetic sequences; the loss uses the run's RNG (input noise). */
function setup(seed: number) {
  const block = new TransformerBlock({ dim: 8, numHeads: 2, mlpRatio: 2, seed: 1 + seed });
  const head = new Dense({ inputDim: 8, units: 3, seed: 2 + seed });
  const model = {
    namedWeights: () => ({
      ...Object.fromEntries(Object.entries(block.namedWeights()).map(([k, v]) => [`block/${k}`, v])),
      ...Object.fromEntries(Object.entries(head.namedWeights()).map(([k, v]) => [`head/${k}`, v])),
    }),
    trainableWeights: () => model.namedWeights(),
    loadWeights: (t: Record<string, tf.Tensor>, o?: { source?: string }) => {
      block.loadWeights(
        Object.fromEntries(
          Object.entries(t)
            .filter(([k]) => k.startsWith('block/'))
            .map(([k, v]) => [k.slice(6), v]),
        ),
        o,
      );
      head.loadWeights(
        Object.fromEntries(
          Object.entries(t)
            .filter(([k]) => k.startsWith('head/'))
            .map(([k, v]) => [k.slice(5), v]),
        ),
        o,
      );
    },
  };
  const dataRng = new Rng(99);
  const xs = dataRng.normalTensor([40, 4, 8]);
  const ys = Int32Array.from({ length: 40 }, (_, i) => i % 3);
  const order = new BatchOrder(40, 8, 7 + seed * 0);
  const data = {
    next: () => {
      const idx = order.next();
      return {
        x: tf.gather(xs, idx),
        y: tf.tensor1d(
          idx.map((i) => ys[i]),
          'int32',
        ),
      };
    },
    getState: () => order.getState(),
    setState: (s: unknown) => order.setState(s as never),
  };
  const options: RunTrainingOptions<{ x: tf.Tensor; y: tf.Tensor }> = {
    model,
    config: { kind: 'test' },
    optimizer: new AdamW({ lr: 1e-2 }),
    schedule: warmupCosine({ peakLr: 1e-2, warmupSteps: 3, totalSteps: 10 }),
    totalSteps: 10,
    data,
    rng: new Rng(1234 + seed * 0),
    clipNorm: 1,
    progress: false,
    lossFn: (batch, { rng }) => {
      const noisy = tf.add(batch.x, rng.normalTensor(batch.x.shape, 0, 0.1));
      const h = block.apply(noisy, { training: true });
      return softmaxCrossEntropy(
        head.apply(tf.mean(h, 1)) as tf.Tensor2D,
        batch.y as tf.Tensor1D,
      ) as tf.Scalar;
    },
  };
  const dispose = () => {
    block.dispose();
    head.dispose();
    options.optimizer.dispose();
    xs.dispose();
  };
  return { options, dispose, block };
}

describeEachBackend('runTraining', (backend) => {
  it('a run stopped at step 6 and resumed reproduces the uninterrupted losses (1e-6)', async () => {
    const dirA = join(root, `a-${backend}`);
    const a = setup(0);
    const full = await runTraining({ ...a.options, dir: dirA, checkpointEvery: 4 });
    a.dispose();
    expect(full.step).toBe(10);

    const dirB = join(root, `b-${backend}`);
    const first = setup(0);
    const part = await runTraining({ ...first.options, dir: dirB, checkpointEvery: 4, stopAfter: 6 });
    first.dispose();
    expect(part.step).toBe(6);
    // A crash after the checkpoint wrote more log lines; resume must cut them back.
    await appendFile(join(dirB, 'log.jsonl'), JSON.stringify({ step: 7, loss: 0 }) + '\n{"step": 8, "lo');
    // Fresh objects with different initial weights and seeds: only the checkpoint can make them match.
    const second = setup(5);
    const rest = await runTraining({ ...second.options, dir: dirB, checkpointEvery: 4, resume: true });
    second.dispose();
    expect(rest.resumedFrom?.step).toBe(6);
    expect(rest.records.map((r) => r.step)).toEqual([7, 8, 9, 10]);
    rest.records.forEach((r, i) => expect(Math.abs(r.loss - full.records[6 + i].loss)).toBeLessThan(1e-6));
    const log = await JsonlLog.read(join(dirB, 'log.jsonl'));
    expect(log.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await readdir(dirB)).filter((n) => n.endsWith('.safetensors'))).toHaveLength(2);
  });

  it('stops on a NaN loss without touching the weights, naming the last good checkpoint', async () => {
    const dir = join(root, `nan-${backend}`);
    const s = setup(0);
    const lossFn = s.options.lossFn;
    const before: number[] = [];
    await expect(
      runTraining({
        ...s.options,
        dir,
        checkpointEvery: 2,
        lossFn: (batch, ctx) => {
          if (ctx.step === 3) {
            before.push(...Array.from(s.block.namedWeights()['ln1/gamma'].dataSync()));
            return tf.mul(lossFn(batch, ctx) as tf.Scalar, NaN) as tf.Scalar;
          }
          return lossFn(batch, ctx);
        },
      }),
    ).rejects.toThrow(TrainingDivergedError);
    expect(Array.from(s.block.namedWeights()['ln1/gamma'].dataSync())).toEqual(before);
    const log = await JsonlLog.read(join(dir, 'log.jsonl'));
    expect(log[log.length - 1]).toEqual(expect.objectContaining({ step: 3, event: 'diverged' }));
    const ckpt = await loadTrainingCheckpoint(join(dir, 'step-00000002.safetensors'));
    expect(ckpt.state.step).toBe(2);
    tf.dispose([...Object.values(ckpt.weights), ...Object.values(ckpt.optimizer.moments)]);
    s.dispose();
  });

  it('holds the tensor count constant across steps (no leaks in a full training step)', async () => {
    const s = setup(0);
    await runTraining({ ...s.options, totalSteps: 2 });
    const before = tf.memory().numTensors;
    await runTraining({ ...s.options, totalSteps: 3 });
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
  });
});

describe('a stop request (Ctrl-C)', () => {
  it('ends the run between steps with a checkpoint of the last step and says how to resume', async () => {
    const dir = join(root, 'stop');
    const a = setup(0);
    const controller = new AbortController();
    const error = (await runTraining({
      ...a.options,
      dir,
      checkpointEvery: 100,
      signal: controller.signal,
      onStep: (r) => {
        if (r.step === 3) controller.abort();
      },
    }).catch((e: unknown) => e)) as TrainingStoppedError;
    a.dispose();
    expect(error).toBeInstanceOf(TrainingStoppedError);
    expect(error.step).toBe(3);
    expect(error.checkpoint).toBe(join(dir, 'step-00000003.safetensors'));
    expect(error.message).toMatch(/run the same command with --resume to continue/);
    const b = setup(0);
    const rest = await runTraining({ ...b.options, dir, resume: true });
    b.dispose();
    expect(rest.resumedFrom?.step).toBe(3);
  });
});

describe('runs cannot mix', () => {
  it('refuses a second run in a folder that holds one, and resumes only the same configuration', async () => {
    const dir = join(root, 'mix');
    const a = setup(0);
    await runTraining({ ...a.options, totalSteps: 7, dir, checkpointEvery: 100 });
    a.dispose();
    const before = (await readdir(dir)).sort();

    // A fresh run into the same folder (the issue's `--steps 5` without --resume) is refused untouched.
    const b = setup(0);
    await expect(runTraining({ ...b.options, totalSteps: 5, dir, dirLabel: 'out/' })).rejects.toThrow(
      new TrainingRunExistsError(
        dir,
        'out/ already holds a training run; pass --resume to continue it, or choose another output folder.',
      ),
    );
    b.dispose();
    expect((await readdir(dir)).sort()).toEqual(before);

    // Resuming with another configuration is refused, naming what differs.
    const c = setup(0);
    const error = await runTraining({
      ...c.options,
      totalSteps: 8,
      dir,
      resume: true,
      fingerprint: { kind: 'test', seed: 3 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingRunMismatchError);
    expect((error as TrainingRunMismatchError).differences).toEqual(['seed']);
    c.dispose();

    // The same configuration resumes from step 7: the log is 1..8, never 1..5 then 8.
    const d = setup(0);
    const rest = await runTraining({ ...d.options, totalSteps: 8, dir, resume: true });
    d.dispose();
    expect(rest.resumedFrom?.step).toBe(7);
    expect((await JsonlLog.read(join(dir, 'log.jsonl'))).map((r) => r.step)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });
});

describe('run helpers', () => {
  it('BatchOrder: epochs reshuffle deterministically and the state resumes the order', () => {
    const a = new BatchOrder(10, 4, 3);
    const seq = Array.from({ length: 6 }, () => a.next());
    const epoch0 = seq[0].concat(seq[1]);
    expect(new Set(epoch0).size).toBe(8);
    expect(epoch0.every((i) => i >= 0 && i < 10)).toBe(true);
    expect(seq[2].concat(seq[3])).not.toEqual(epoch0); // a new permutation for epoch 1
    expect(a.epoch).toBe(2);
    const b = new BatchOrder(10, 4, 3);
    b.next();
    b.next();
    const c = new BatchOrder(10, 4, 3);
    c.setState(b.getState());
    expect(Array.from({ length: 4 }, () => c.next())).toEqual(seq.slice(2));
    expect(() => new BatchOrder(3, 4, 1)).toThrow(
      'BatchOrder: batchSize must be an integer in [1, 3] (the dataset size, as dropLast is set), got 4.',
    );
  });

  it('Progress prints a line per 10% without a TTY', () => {
    let out = '';
    const stream = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const p = new Progress({ total: 20, label: 'train', stream });
    for (let i = 1; i <= 20; i++) p.update(i);
    p.finish();
    expect(out.trim().split('\n')).toHaveLength(11);
    expect(out).toMatch(/train 20\/20 \(100%\)/);
  });

  it('a file that is not a training checkpoint is refused with its path', async () => {
    const path = join(root, 'plain.safetensors');
    await writeSafetensors(path, { w: tf.zeros([2]) });
    await expect(loadTrainingCheckpoint(path)).rejects.toThrow(`${path}: format is undefined`);
  });
});

describe('asynchronous data', () => {
  it('a source whose next() is async trains and resumes exactly like the same data served synchronously', async () => {
    const sync = setup(0);
    const reference = await runTraining({ ...sync.options, totalSteps: 6 });
    sync.dispose();
    const asAsync = (s: ReturnType<typeof setup>, dir: string, extra: object) => {
      const inner = s.options.data as { next(): { x: tf.Tensor; y: tf.Tensor } };
      const data = {
        // A macrotask between batches, as a loader decoding in worker threads has.
        next: () =>
          new Promise<{ x: tf.Tensor; y: tf.Tensor }>((ok) => setTimeout(() => ok(inner.next()), 1)),
        getState: () => s.options.data.getState(),
        setState: (state: unknown) => s.options.data.setState(state),
      };
      return runTraining({ ...s.options, data, totalSteps: 6, dir, checkpointEvery: 2, ...extra });
    };
    const dir = join(root, 'async');
    const first = setup(0);
    await asAsync(first, dir, { stopAfter: 4 });
    first.dispose();
    const second = setup(0);
    const rest = await asAsync(second, dir, { resume: true });
    second.dispose();
    expect(rest.resumedFrom?.step).toBe(4);
    expect(rest.records.map((r) => r.loss)).toEqual(reference.records.slice(4).map((r) => r.loss));
  });
});
