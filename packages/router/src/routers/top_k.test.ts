import * as tf from '@tensorflow/tfjs';
import { Rng } from '@moevl/core';
import { describeEachBackend } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { loadLoss } from '../losses/load.js';
import type { SparseRoutingResult } from './contract.js';
import { topKRouter } from './top_k.js';

describeEachBackend('top-k router', () => {
  const make = (options: Record<string, unknown> = {}) =>
    topKRouter.create(topKRouter.validateOptions({ inputDim: 6, numExperts: 4, seed: 3, ...options }));

  it('adds N(0, (noiseStd/E)²) noise from the context RNG and feeds the load loss σ = noiseStd/E', () => {
    const router = make({ k: 2, noiseStd: 1, importanceWeight: 0, loadWeight: 1 });
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
    const r = router.route(x, { training: true, rng: new Rng(5) }) as SparseRoutingResult;
    // Rebuild the same noisy logits by hand: clean logits x·W plus the same draws with std 1/E.
    const clean = tf.matMul(x, router.namedWeights()['gate/kernel']) as tf.Tensor2D;
    const noisy = tf.add(clean, new Rng(5).normalTensor([16, 4], 0, 1 / 4)) as tf.Tensor2D;
    const want = loadLoss(clean, noisy, { k: 2, noiseStd: 1 });
    expect(r.auxLosses.load.dataSync()[0]).toBeCloseTo(want.dataSync()[0], 6);
    // Routing used the noisy gates: each token's first choice is the argmax of the noisy logits.
    const first = tf.slice(r.expertIndex, [0, 0], [16, 1]);
    expect(Array.from(first.dataSync())).toEqual(Array.from(tf.argMax(noisy, 1).dataSync()));
    tf.dispose([x, clean, noisy, want, first]);
    router.dispose();
  });

  it('is deterministic in eval (no noise, no load loss) and uses the eval capacity factor', () => {
    const router = make({ k: 1, capacityFactor: 1, evalCapacityFactor: 4 });
    const x = tf.randomNormal([32, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    const a = router.route(x, { training: false }) as SparseRoutingResult;
    const b = router.route(x, { training: false }) as SparseRoutingResult;
    expect(a.capacity).toBe(32); // ceil(32·1·4/4) = 32
    expect(Array.from(a.expertIndex.dataSync())).toEqual(Array.from(b.expertIndex.dataSync()));
    expect(Object.keys(a.auxLosses)).toEqual(['importance']);
    expect(router.route(x, { training: true }).capacity).toBe(8); // ceil(32·1·1/4) = 8
    x.dispose();
    router.dispose();
  });
});
