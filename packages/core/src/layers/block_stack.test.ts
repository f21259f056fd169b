import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '../testing/index.js';
import { MultiHeadSelfAttention } from './attention.js';
import { runBlocks } from './block_stack.js';
import type { FeedForwardOutput, TokenContext } from './feed_forward.js';
import { Layer, deserializeLayer, serializeLayer } from './layer.js';
import { MLP } from './mlp.js';
import { placeBlocks } from './moe_placement.js';
import { TransformerBlock } from './transformer_block.js';

/** A sparse-layer stand-in: y = s·x, an aux loss mean(x²) and a metric, for either slot. */
class Scaled extends Layer {
  static className = 'TestScaled';
  readonly scale: number;
  constructor(args: { scale: number; name?: string; seed?: number }) {
    super(args);
    this.scale = args.scale;
  }
  forward(x: tf.Tensor, ctx: TokenContext): FeedForwardOutput {
    return tf.tidy(() => ({
      y: tf.mul(x, this.scale),
      auxLosses: { square: tf.mean(tf.square(x)) as tf.Scalar },
      metrics: { training: ctx.training, scale: this.scale },
    })) as FeedForwardOutput;
  }
  apply(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.scale);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(Scaled);

const blocks = () => [
  new TransformerBlock({ dim: 4, numHeads: 2, mlpRatio: 2, seed: 1 }),
  new TransformerBlock({ dim: 4, numHeads: 2, mlp: new Scaled({ scale: 2 }), seed: 2 }),
  new TransformerBlock({
    dim: 4,
    numHeads: 2,
    attention: new Scaled({ scale: 0.5 }),
    mlp: new Scaled({ scale: 3 }),
    seed: 3,
  }),
];

describe('TransformerBlock slots and runBlocks', () => {
  it('runs the blocks in order and names every slot’s losses and metrics by block', async () => {
    const stack = blocks();
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 4);
    let expected = x;
    for (const b of stack) expected = b.apply(expected);
    const out = runBlocks(stack, x, { training: true });
    expect(out.tokens.arraySync()).toEqual(expected.arraySync());
    expect(Object.keys(out.auxLosses).sort()).toEqual([
      'block1/square',
      'block2/attention/square',
      'block2/square',
    ]);
    expect(out.metrics).toEqual({
      block1: { training: true, scale: 2 },
      block2: { training: true, scale: 3 },
    });
    expect(out.slots.map((s) => s.name)).toEqual(['block1/mlp', 'block2/attention', 'block2/mlp']);
    const bySlot = runBlocks(stack, x, { training: false }, { auxKeys: 'slot', prefix: 'text_block' });
    expect(Object.keys(bySlot.auxLosses).sort()).toEqual([
      'text_block1/mlp/square',
      'text_block2/attention/square',
      'text_block2/mlp/square',
    ]);
    tf.dispose([x, expected, out.tokens, bySlot.tokens, ...Object.values(out.auxLosses)]);
    tf.dispose(Object.values(bySlot.auxLosses));
    const y = tf.ones([1, 3, 4]);
    await expectNoLeakedTensors(() =>
      tf.dispose(
        tf.tidy(() => runBlocks(stack, y, { training: false }, { beforeBlock: (h) => tf.add(h, 1) }).tokens),
      ),
    );
    y.dispose();
    stack.forEach((b) => b.dispose());
  });

  it('applies beforeBlock to the input of every block', () => {
    const stack = blocks();
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 5);
    const seen: number[] = [];
    const out = runBlocks(
      stack,
      x,
      { training: false },
      {
        beforeBlock: (h, i) => {
          seen.push(i);
          return tf.add(h, 1);
        },
      },
    );
    let expected = x;
    for (const b of stack) expected = b.apply(tf.add(expected, 1));
    expect(seen).toEqual([0, 1, 2]);
    expect(out.tokens.arraySync()).toEqual(expected.arraySync());
    stack.forEach((b) => b.dispose());
  });

  it('serialises a configured attention slot, and writes a default block as before', () => {
    const plain = new TransformerBlock({ dim: 4, numHeads: 2, seed: 1 });
    expect(serializeLayer(plain).config).not.toHaveProperty('attention');
    const block = new TransformerBlock({
      dim: 4,
      numHeads: 2,
      attention: new MultiHeadSelfAttention({ dim: 4, numHeads: 1, seed: 9 }),
      mlp: new MLP({ dim: 4, hiddenDim: 2, seed: 8 }),
      seed: 1,
    });
    const copy = deserializeLayer<TransformerBlock>(JSON.parse(JSON.stringify(serializeLayer(block))));
    expect(serializeLayer(copy)).toEqual(serializeLayer(block));
    expect((copy.attn as MultiHeadSelfAttention).numHeads).toBe(1);
    const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 6);
    expect(copy.apply(x).arraySync()).toEqual(block.apply(x).arraySync());
    expect(
      () => new TransformerBlock({ dim: 4, numHeads: 2, attention: new MLP({ dim: 4, hiddenDim: 2 }) }),
    ).not.toThrow(); // MLP has forward(x, ctx)
    [plain, block, copy].forEach((l) => l.dispose());
  });
});

describe('placeBlocks', () => {
  it('reads both spellings of MoE placement', () => {
    expect(placeBlocks({}, 6, 'm')).toEqual([1, 3, 5]);
    expect(placeBlocks({ every: 2, last: 2 }, 24, 'm')).toEqual([21, 23]);
    expect(placeBlocks({ every: 1, last: 2 }, 5, 'm')).toEqual([3, 4]);
    expect(placeBlocks('odd', 6, 'm')).toEqual([1, 3, 5]);
    expect(placeBlocks('even', 5, 'm')).toEqual([0, 2, 4]);
    expect(placeBlocks('all', 3, 'm')).toEqual([0, 1, 2]);
    expect(placeBlocks('none', 3, 'm')).toEqual([]);
    expect(placeBlocks([3, 0], 4, 'm')).toEqual([0, 3]);
  });

  it.each<[unknown, RegExp]>([
    [{ every: 0 }, /^V-MoE: moe\.every must be a positive integer, got 0\.$/],
    [{ every: 5 }, /moe\.every = 5 selects no block of a 4-block model; use every ≤ 4\./],
    [{ last: 3 }, /moe\.last must be an integer in \[1, 2\] \(blocks 1, 3 match every = 2/],
    [
      [0, 0],
      /moe\.blocks must be 'odd', 'even', 'all', 'none' or distinct block indices in \[0, 4\), got \[0,0\]/,
    ],
    ['odd-ish', /moe\.blocks must be/],
  ])('names what to change in %j', (placement, message) => {
    expect(() => placeBlocks(placement as never, 4, 'V-MoE: moe')).toThrow(message);
  });
});
