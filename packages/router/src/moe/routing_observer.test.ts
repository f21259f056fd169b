import * as tf from '@tensorflow/tfjs';
import { describeEachBackend } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import { MoELayer, type RoutingEvent } from './moe_layer.js';

const [B, T, D, E] = [3, 4, 8, 4];

describeEachBackend('MoELayer ctx.onRouting', () => {
  it('reports every routed group and leaves the output as it was', () => {
    const moe = new MoELayer({
      dim: D,
      hiddenDim: 16,
      numExperts: E,
      router: { name: 'top-k', options: { k: 2 } },
    });
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 7) as tf.Tensor3D;
    const plain = moe.forward(x, { training: false });
    const events: Array<Omit<RoutingEvent, 'routing'> & { experts: Int32Array; shape: number[] }> = [];
    const observed = moe.forward(x, {
      training: false,
      onRouting: ({ routing, ...rest }: RoutingEvent) => {
        if (routing.kind !== 'sparse') throw new Error('top-k routes sparsely');
        events.push({
          ...rest,
          experts: routing.expertIndex.dataSync() as Int32Array,
          shape: routing.expertIndex.shape,
        });
      },
    });
    // top-k is batch-independent: the whole batch is one group at evaluation.
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      layer: moe,
      start: 0,
      examples: B,
      tokensPerExample: T,
      shape: [B * T, 2],
    });
    expect(events[0].experts.every((e) => e >= 0 && e < E)).toBe(true);
    expect(observed.y.arraySync()).toEqual(plain.y.arraySync());
    tf.dispose([
      x,
      plain.y,
      observed.y,
      ...Object.values(plain.auxLosses ?? {}),
      ...Object.values(observed.auxLosses ?? {}),
    ]);
    moe.dispose();
  });

  it('reports one group per example for a router whose tokens compete (expert choice)', () => {
    const moe = new MoELayer({
      dim: D,
      hiddenDim: 16,
      numExperts: E,
      router: { name: 'expert-choice', options: {} },
    });
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 8) as tf.Tensor3D;
    const groups: Array<[number, number]> = [];
    const out = moe.forward(x, {
      training: false,
      onRouting: (e: RoutingEvent) => groups.push([e.start, e.examples]),
    });
    expect(groups).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    tf.dispose([x, out.y, ...Object.values(out.auxLosses ?? {})]);
    moe.dispose();
  });
});
