import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MLP,
  TransformerBlock,
  deserializeLayer,
  readSafetensors,
  serializeLayer,
  writeSafetensors,
} from '@moevl/core';
import { checkGradients, describeEachBackend, expectNoLeakedTensors } from '@moevl/core/testing';
import { afterAll, expect, it } from 'vitest';
import type { RouterSpec } from '../routers/contract.js';
import { MoELayer } from './moe_layer.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-moe-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Directional finite difference of `loss` w.r.t. a variable, against the tape's gradient. The direction
 * mixes the analytic gradient with a random vector, so the derivative is well above float32 noise while a
 * wrong component of the gradient still changes it.
 */
function variableDirectionalError(loss: () => tf.Scalar, v: tf.Variable, eps = 2e-3): number {
  const original = tf.clone(v);
  const { value, grads } = tf.variableGrads(loss, [v]);
  const g = grads[v.name];
  const direction = tf.tidy(() => {
    const r = tf.randomNormal(v.shape, 0, 1, 'float32', 3);
    return tf.add(tf.div(g, tf.add(tf.norm(g), 1e-12)), tf.mul(tf.div(r, tf.norm(r)), 0.5));
  });
  const analytic = tf.sum(tf.mul(g, direction)).dataSync()[0];
  const at = (sign: number) => {
    v.assign(tf.add(original, tf.mul(direction, sign * eps)));
    const l = loss();
    const r = l.dataSync()[0];
    l.dispose();
    return r;
  };
  const numeric = (at(1) - at(-1)) / (2 * eps);
  v.assign(original);
  tf.dispose([original, direction, value, ...Object.values(grads)]);
  return Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-6);
}

describeEachBackend('MoELayer', (backend) => {
  const make = (router: RouterSpec = { name: 'top-k', options: { k: 2, batchPriority: true } }) =>
    new MoELayer({ dim: 8, hiddenDim: 16, numExperts: 4, router, seed: 11 });

  it('with one expert and no drops it equals a dense MLP with the same weights', () => {
    // k = 1 of 1 expert at a capacity that fits every token: y = gate·MLP(x) with gate = 1.
    const moe = new MoELayer({
      dim: 8,
      hiddenDim: 16,
      numExperts: 1,
      router: { name: 'top-k', options: { k: 1, evalCapacityFactor: 1 } },
      seed: 2,
    });
    const mlp = new MLP({ dim: 8, hiddenDim: 16, seed: 5 });
    const w = moe.namedWeights();
    mlp.loadWeights({
      'fc1/kernel': tf.reshape(w['experts/w1'], [8, 16]),
      'fc1/bias': tf.reshape(w['experts/b1'], [16]),
      'fc2/kernel': tf.reshape(w['experts/w2'], [16, 8]),
      'fc2/bias': tf.reshape(w['experts/b2'], [8]),
    });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1);
    const out = moe.forward(x, { training: false });
    const ref = mlp.apply(x);
    const a = out.y.dataSync();
    const b = ref.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    tf.dispose([x, out.y, ref, ...Object.values(out.auxLosses ?? {})]);
    moe.dispose();
    mlp.dispose();
  });

  it('dropped tokens contribute exactly zero; metrics and aux losses come back', () => {
    // Tiny capacity: with 12 tokens, k=1, 4 experts, cf 0.25 → C = ceil(0.75) → 4 (multiple of 4)... use cf
    // small enough that some tokens must drop.
    const moe = new MoELayer({
      dim: 8,
      hiddenDim: 16,
      numExperts: 2,
      router: { name: 'top-k', options: { k: 1, evalCapacityFactor: 0.1, capacityMultipleOf: 1 } },
      seed: 3,
    });
    const x = tf.randomNormal([1, 12, 8], 0, 1, 'float32', 4);
    const { y, routing } = moe.routeAndRun(tf.reshape(x, [12, 8]) as tf.Tensor2D, { training: false });
    expect(routing.capacity).toBe(1);
    const pos = routing.kind === 'sparse' ? (routing.position.arraySync() as number[][]) : [];
    const rows = y.arraySync() as number[][];
    let dropped = 0;
    pos.forEach((p, s) => {
      if (p[0] === -1) {
        dropped++;
        expect(rows[s].every((v) => v === 0)).toBe(true);
      } else {
        expect(rows[s].some((v) => v !== 0)).toBe(true);
      }
    });
    expect(dropped).toBe(10);
    expect(routing.metrics.routingSuccessRate).toBeCloseTo(2 / 12, 6);
    expect(Object.keys(routing.auxLosses)).toEqual(expect.arrayContaining(['importance']));
    tf.dispose([x, y, routing.gates, ...Object.values(routing.auxLosses)]);
    if (routing.kind === 'sparse')
      tf.dispose([routing.expertIndex, routing.position, routing.combineWeights]);
    moe.dispose();
  });

  it('passes finite-difference checks w.r.t. tokens, experts and router (top-k and soft-moe)', () => {
    for (const router of [
      { name: 'top-k', options: { k: 2 } },
      { name: 'soft-moe', options: { slotsPerExpert: 2 } },
    ]) {
      const moe = make(router);
      const x = tf.randomNormal([1, 6, 8], 0, 1, 'float32', 21);
      const f = (a: tf.Tensor) => {
        const out = moe.forward(a, { training: false });
        tf.dispose(Object.values(out.auxLosses ?? {}));
        return out.y;
      };
      expect(checkGradients(f, [x]).maxRelativeError, router.name).toBeLessThan(1e-3);
      const w = moe.namedWeights();
      const loss = () => tf.sum(tf.square(f(x))) as tf.Scalar;
      for (const name of ['experts/w1', 'experts/b2', Object.keys(w).find((k) => k.startsWith('router/'))!]) {
        expect(variableDirectionalError(loss, w[name]), `${router.name} ${name}`).toBeLessThan(1e-3);
      }
      x.dispose();
      moe.dispose();
    }
  });

  it('trains in a TransformerBlock: gradients reach experts and router, with noise in training', () => {
    const block = new TransformerBlock({ dim: 8, numHeads: 2, mlp: make(), seed: 1 });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 31);
    const vars = block.trainableWeights();
    const { value, grads } = tf.variableGrads(() => {
      const out = block.forward(x, { training: true });
      const aux = Object.values(out.auxLosses ?? {});
      return tf.addN([tf.mean(tf.square(out.y)), ...aux]) as tf.Scalar;
    }, Object.values(vars));
    const byName = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, grads[v.name]]));
    for (const key of ['mlp/experts/w1', 'mlp/router/gate/kernel', 'attn/qkv/kernel']) {
      const g = byName[key];
      expect(g, key).toBeDefined();
      const n = tf.norm(g).dataSync()[0];
      expect(Number.isFinite(n) && n > 0, `${key} on ${backend}`).toBe(true);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    block.dispose();
  });

  it('round-trips its config inside a block and its weights through safetensors', async () => {
    const block = new TransformerBlock({ dim: 8, numHeads: 2, mlp: make(), seed: 7 });
    const spec = JSON.parse(JSON.stringify(serializeLayer(block)));
    expect(spec.config.mlp.className).toBe('MoevlMoELayer');
    expect(spec.config.mlp.config.router).toEqual(
      expect.objectContaining({
        name: 'top-k',
        options: expect.objectContaining({ k: 2, batchPriority: true }),
      }),
    );
    const path = join(dir, `block-${backend}.safetensors`);
    await writeSafetensors(path, block.namedWeights(), { config: JSON.stringify(spec) });
    const { tensors, metadata } = await readSafetensors(path);
    const copySpec = JSON.parse(metadata.config);
    copySpec.config.seed = 12345; // only the checkpoint can make the copy equal
    const copy = deserializeLayer<TransformerBlock>(copySpec);
    copy.loadWeights(tensors, { source: path });
    tf.dispose(Object.values(tensors));
    const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 8);
    const a = block.apply(x, { training: false });
    const b = copy.apply(x, { training: false });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    block.dispose();
    copy.dispose();
  });

  it('leaks no tensors (forward and backward)', async () => {
    const moe = make();
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 41);
    const mask = tf.tensor2d([
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
    ]);
    await expectNoLeakedTensors(() => {
      const out = moe.forward(x, { training: true, tokenMask: mask });
      return [out.y, ...Object.values(out.auxLosses ?? {})];
    });
    await expectNoLeakedTensors(() =>
      tf.variableGrads(() => {
        const out = moe.forward(x, { training: true, tokenMask: mask });
        return tf.addN([tf.sum(out.y), ...Object.values(out.auxLosses ?? {})]) as tf.Scalar;
      }, Object.values(moe.trainableWeights())),
    );
    tf.dispose([x, mask]);
    moe.dispose();
  });

  it('rejects bad input with the layer and the problem named', () => {
    expect(() => new MoELayer({ dim: 8, hiddenDim: 0, numExperts: 2 })).toThrow(
      /hiddenDim must be a positive integer/,
    );
    expect(
      () => new MoELayer({ dim: 8, hiddenDim: 8, numExperts: 2, router: { name: 'top-kk', options: {} } }),
    ).toThrow(/Unknown router "top-kk". Did you mean "top-k"\?/);
    expect(
      () =>
        new MoELayer({ dim: 8, hiddenDim: 8, numExperts: 2, router: { name: 'top-k', options: { k: 3 } } }),
    ).toThrow(/router "top-k": option k must be an integer in \[1, 2\], got 3/);
    const moe = make();
    const x = tf.zeros([2, 3, 5]);
    expect(() => moe.forward(x, { training: false })).toThrow(/expected \[B, T, 8\], got \[2,3,5\]/);
    x.dispose();
    moe.dispose();
  });
});
