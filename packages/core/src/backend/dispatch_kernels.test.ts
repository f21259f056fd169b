import * as tf from '@tensorflow/tfjs';
import { afterAll, expect, it } from 'vitest';
import { combineTokens, dispatchTokens } from '../ops/dispatch.js';
import { combineTokensComposite, dispatchTokensComposite } from '../ops/dispatch_composite.js';
import {
  checkGradients,
  describeEachBackend,
  expectNoLeakedTensors,
  seededUniform,
} from '../testing/index.js';
import { COMBINE_TOKENS, DISPATCH_TOKENS, hasDispatchKernels } from './dispatch_kernels.js';
import { useNativeMatMul } from './matmul_kernels.js';
import { nativeBlas } from './native_blas.js';

interface Case {
  s: number;
  k: number;
  e: number;
  c: number;
  d: number;
  seed: number;
}

const rng = seededUniform;

/**
 * A token-choice assignment as the routers make it: K distinct experts per token, positions counted per expert
 * (choice-major, so a token's second choice queues behind every first choice); positions ≥ C are dropped, and
 * a few choices are dropped with −1 outright.
 */
function assignment({ s, k, e, seed }: Case) {
  const r = rng(seed);
  const experts: number[][] = [];
  for (let t = 0; t < s; t++) {
    const order = Array.from({ length: e }, (_, i) => i).sort(() => r() - 0.5);
    experts.push(order.slice(0, k));
  }
  const count = new Array<number>(e).fill(0);
  const position = experts.map((row) => row.map(() => 0));
  for (let j = 0; j < k; j++)
    for (let t = 0; t < s; t++) position[t][j] = r() < 0.1 ? -1 : count[experts[t][j]]++;
  return {
    expertIndex: tf.tensor2d(experts, [s, k], 'int32'),
    position: tf.tensor2d(position, [s, k], 'int32'),
    weights: tf.tensor2d(
      Array.from({ length: s * k }, () => r()),
      [s, k],
    ),
  };
}

const CASES: Case[] = [
  { s: 12, k: 1, e: 4, c: 3, d: 5, seed: 1 }, // top-1, some dropped
  { s: 12, k: 2, e: 4, c: 4, d: 20, seed: 2 }, // top-2, rows ≥ 16 wide (copied whole)
  { s: 9, k: 3, e: 5, c: 2, d: 3, seed: 3 },
  { s: 8, k: 2, e: 3, c: 1, d: 4, seed: 4 }, // capacity 1: almost everything dropped
  { s: 6, k: 2, e: 4, c: 12, d: 6, seed: 5 }, // capacity ≥ tokens: only the −1 choices dropped
  { s: 0, k: 2, e: 3, c: 2, d: 4, seed: 7 }, // no tokens
];

function tensorsOf(cs: Case) {
  const a = assignment(cs);
  const r = rng(cs.seed + 100);
  const x = tf.tensor2d(
    Array.from({ length: cs.s * cs.d }, () => r() * 2 - 1),
    [cs.s, cs.d],
  );
  const y = tf.tensor3d(
    Array.from({ length: cs.e * cs.c * cs.d }, () => r() * 2 - 1),
    [cs.e, cs.c, cs.d],
  );
  const dOut = tf.tensor2d(
    Array.from({ length: cs.s * cs.d }, () => r() * 2 - 1),
    [cs.s, cs.d],
  );
  const dBuf = tf.tensor3d(
    Array.from({ length: cs.e * cs.c * cs.d }, () => r() * 2 - 1),
    [cs.e, cs.c, cs.d],
  );
  return { ...a, x, y, dOut, dBuf };
}

function expectClose(a: tf.Tensor, b: tf.Tensor): void {
  expect(a.shape).toEqual(b.shape);
  const [u, v] = [a.dataSync(), b.dataSync()];
  for (let i = 0; i < u.length; i++) expect(Math.abs(u[i] - v[i])).toBeLessThanOrEqual(1e-5);
}

/** Outputs and gradients (x; expert outputs and weights) of one dispatch/combine implementation. */
function run(t: ReturnType<typeof tensorsOf>, cs: Case, fused: boolean) {
  const disp = fused ? dispatchTokens : dispatchTokensComposite;
  const comb = fused ? combineTokens : combineTokensComposite;
  return tf.tidy(() => {
    const buffers = disp(t.x, t.expertIndex, t.position, cs.e, cs.c);
    const out = comb(t.y, t.expertIndex, t.position, t.weights);
    const [dx] = tf.grads((a: tf.Tensor) =>
      tf.sum(tf.mul(disp(a as tf.Tensor2D, t.expertIndex, t.position, cs.e, cs.c), t.dBuf)),
    )([t.x]);
    const [dy, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(comb(a as tf.Tensor3D, t.expertIndex, t.position, b), t.dOut)),
    )([t.y, t.weights]);
    return [buffers, out, dx, dy, dw];
  });
}

describeEachBackend('fused token dispatch and combine kernels', (backend) => {
  afterAll(() => void useNativeMatMul(true));

  const paths = backend === 'wasm' ? [true, false] : [true];
  for (const nativePath of paths) {
    it(`equal the composite (outputs and gradients, 1e-5), dropped choices, K = 1…3, capacity 1…S (native path ${nativePath})`, () => {
      useNativeMatMul(nativePath);
      for (const cs of CASES) {
        const t = tensorsOf(cs);
        const fused = run(t, cs, true);
        const composite = run(t, cs, false);
        fused.forEach((f, i) => expectClose(f, composite[i]));
        tf.dispose([...fused, ...composite, ...Object.values(t)]);
      }
    });
  }

  if (backend === 'wasm') {
    it('native path is bitwise the JavaScript kernels, at sizes split over threads too', (ctx) => {
      if (!nativeBlas().ok) ctx.skip();
      for (const cs of [...CASES, { s: 3000, k: 2, e: 8, c: 800, d: 128, seed: 8 }]) {
        const t = tensorsOf(cs);
        useNativeMatMul(true);
        const native = run(t, cs, true);
        useNativeMatMul(false);
        const js = run(t, cs, true);
        useNativeMatMul(true);
        native.forEach((f, i) => {
          // Bit patterns, element by element (toEqual on ~800k elements takes seconds).
          const [a, b] = [f, js[i]].map(
            (x) => new Uint32Array((x.dataSync() as Float32Array).slice().buffer),
          );
          let differ = a.length === b.length ? 0 : 1;
          for (let j = 0; j < a.length && differ === 0; j++) if (a[j] !== b[j]) differ++;
          expect(differ, `output ${i} of case ${JSON.stringify(cs)}`).toBe(0);
        });
        tf.dispose([...native, ...js, ...Object.values(t)]);
      }
    });
  }

  it('has finite-difference gradients (dispatch in x, combine in expert outputs and weights)', () => {
    for (const cs of [CASES[0], CASES[2], CASES[3]]) {
      const t = tensorsOf(cs);
      const rd = checkGradients(
        (a) => dispatchTokens(a as tf.Tensor2D, t.expertIndex, t.position, cs.e, cs.c),
        [t.x],
      );
      expect(rd.maxRelativeError).toBeLessThan(1e-3);
      const rc = checkGradients(
        (a, b) => combineTokens(a as tf.Tensor3D, t.expertIndex, t.position, b),
        [t.y, t.weights],
      );
      expect(rc.maxRelativeError).toBeLessThan(1e-3);
      tf.dispose(Object.values(t));
    }
  });

  it('differentiates through integer inputs that lie on the tape (their gradient is float32 zeros)', () => {
    const cs = CASES[1];
    const t = tensorsOf(cs);
    const [dx] = tf.grads((a: tf.Tensor) => {
      // An expert index computed from the differentiated tensor: the tape asks for its gradient.
      const zero = tf.cast(tf.mul(tf.slice(a, [0, 0], [cs.s, cs.k]), 0), 'int32');
      const ei = tf.add(t.expertIndex, zero);
      const buffers = dispatchTokens(a as tf.Tensor2D, ei, t.position, cs.e, cs.c);
      return tf.sum(combineTokens(buffers, ei, t.position, t.weights));
    })([t.x]);
    expect(dx.shape).toEqual([cs.s, cs.d]);
    tf.dispose([dx, ...Object.values(t)]);
  });

  it('leaks no tensors, forward or backward', async () => {
    const cs = CASES[1];
    const t = tensorsOf(cs);
    await expectNoLeakedTensors(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          combineTokens(
            dispatchTokens(a as tf.Tensor2D, t.expertIndex, t.position, cs.e, cs.c),
            t.expertIndex,
            t.position,
            b,
          ),
        ),
      )([t.x, t.weights]),
    );
    await expectNoLeakedTensors(() => dispatchTokens(t.x, t.expertIndex, t.position, cs.e, cs.c));
    tf.dispose(Object.values(t));
  });

  it('drops everything at capacity 0 (the composite refuses it: no segments)', () => {
    const cs = { s: 5, k: 1, e: 2, c: 0, d: 3, seed: 6 };
    const t = tensorsOf(cs);
    const [buffers, out, dx, dy, dw] = run(t, cs, true);
    expect(buffers.shape).toEqual([2, 0, 3]);
    for (const z of [out, dx, dw]) expect(Array.from(z.dataSync()).every((v) => v === 0)).toBe(true);
    expect(dy.shape).toEqual([2, 0, 3]);
    tf.dispose([buffers, out, dx, dy, dw, ...Object.values(t)]);
  });

  it('runs one kernel each way on wasm and cpu', async () => {
    expect(hasDispatchKernels()).toBe(true);
    const cs = CASES[1];
    const t = tensorsOf(cs);
    const p = await tf.profile(() => {
      const b = dispatchTokens(t.x, t.expertIndex, t.position, cs.e, cs.c);
      tf.dispose([b, combineTokens(b, t.expertIndex, t.position, t.weights)]);
    });
    expect(p.kernelNames).toContain(DISPATCH_TOKENS);
    expect(p.kernelNames).toContain(COMBINE_TOKENS);
    expect(p.kernelNames).not.toContain('UnsortedSegmentSum');
    tf.dispose(Object.values(t));
  });
});
