import type * as tf from '@tensorflow/tfjs';
import type { MetricValue } from './feed_forward.js';
import type { TransformerBlock, TransformerBlockContext } from './transformer_block.js';

/** The slots of a `TransformerBlock` that can hold a sparse layer. */
export type BlockSlot = 'attention' | 'mlp';

/** The routing metrics of one slot of one block in one pass, plain data. */
export interface BlockSlotMetrics {
  /** `<prefix><i>/<slot>`, e.g. `block3/mlp`. */
  name: string;
  block: number;
  slot: BlockSlot;
  metrics: Record<string, MetricValue>;
}

export interface RunBlocksOptions {
  /** The name of block i is `<prefix><i>`. Default `block`. */
  prefix?: string;
  /**
   * How aux losses are keyed. `flat` (default; ViT, V-MoE, LIMoE): `<prefix><i>/<loss>` for the MLP slot,
   * `<prefix><i>/attention/<loss>` for the attention slot. `slot` (Mod-Squad, where both slots can be sparse
   * in one block): `<prefix><i>/<slot>/<loss>` for both.
   */
  auxKeys?: 'flat' | 'slot';
  /** Applied to the tokens before block i (Mod-Squad adds the task embedding before every block). */
  beforeBlock?: (x: tf.Tensor, i: number) => tf.Tensor;
}

export interface RunBlocksOutput {
  tokens: tf.Tensor;
  /** Every block's aux losses, keyed as `RunBlocksOptions.auxKeys` says. */
  auxLosses: Record<string, tf.Scalar>;
  /** The MLP slot's metrics of each block that returned any, keyed `<prefix><i>`. */
  metrics: Record<string, MetricValue>;
  /** Each slot that returned metrics, in block order (attention before MLP). */
  slots: BlockSlotMetrics[];
}

/**
 * The block loop of every transformer in moevl: `tokens` through `blocks` in order with one context,
 * collecting each block's aux losses and metrics under one naming scheme (`<prefix><i>/...`). Call it inside
 * `tf.tidy`; intermediate tokens are disposed as it goes, `tokens` itself is not.
 */
export function runBlocks(
  blocks: readonly TransformerBlock[],
  tokens: tf.Tensor,
  ctx: TransformerBlockContext,
  options: RunBlocksOptions = {},
): RunBlocksOutput {
  const prefix = options.prefix ?? 'block';
  const auxLosses: Record<string, tf.Scalar> = {};
  const metrics: Record<string, MetricValue> = {};
  const slots: BlockSlotMetrics[] = [];
  let h = tokens;
  blocks.forEach((block, i) => {
    const name = `${prefix}${i}`;
    const input = options.beforeBlock != null ? options.beforeBlock(h, i) : h;
    const out = block.forward(input, ctx);
    if (input !== h) input.dispose();
    if (h !== tokens) h.dispose();
    h = out.y;
    for (const slot of ['attention', 'mlp'] as const) {
      const s = out.slots[slot];
      const key = options.auxKeys === 'slot' || slot === 'attention' ? `${name}/${slot}/` : `${name}/`;
      for (const [k, v] of Object.entries(s.auxLosses)) auxLosses[`${key}${k}`] = v;
      if (Object.keys(s.metrics).length > 0)
        slots.push({ name: `${name}/${slot}`, block: i, slot, metrics: s.metrics });
    }
    if (Object.keys(out.slots.mlp.metrics).length > 0) metrics[name] = out.slots.mlp.metrics;
  });
  return { tokens: h, auxLosses, metrics, slots };
}
