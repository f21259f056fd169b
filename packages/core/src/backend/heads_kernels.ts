import * as tf from '@tensorflow/tfjs';
import { type FusedKernel, hasKernel, nativeDesc, registerFusedKernel } from './fused_kernels.js';

/**
 * `MoevlSplitHeads` and `MoevlMergeHeads`: attention's packed projection `[B·T, 3·D]` (q, k and v blocks of
 * `H` heads of `hd` values) to per-head `q`, `k`, `v` `[B·H, T, hd]`, and back for the gradient. With one
 * product for all three projections, this replaces three weight slices, three bias adds and three
 * transposes forward (and their gradients: pads, adds, transposes) by one pass of row copies each way.
 */

export const SPLIT_HEADS = 'MoevlSplitHeads';
export const MERGE_HEADS = 'MoevlMergeHeads';

interface HeadAttrs {
  b: number;
  t: number;
  h: number;
}

/** Copies between packed `y` and per-head `q, k, v` (`merge`: heads → packed). */
export function moveHeads(
  y: Float32Array,
  heads: Float32Array[],
  { b, t, h }: HeadAttrs,
  hd: number,
  merge: boolean,
): void {
  const d = h * hd;
  for (let bi = 0; bi < b; bi++)
    for (let ti = 0; ti < t; ti++)
      for (let w = 0; w < 3; w++)
        for (let hi = 0; hi < h; hi++) {
          const packed = ((bi * t + ti) * 3 + w) * d + hi * hd;
          const head = ((bi * h + hi) * t + ti) * hd;
          const out = heads[w];
          if (merge) for (let j = 0; j < hd; j++) y[packed + j] = out[head + j];
          else for (let j = 0; j < hd; j++) out[head + j] = y[packed + j];
        }
}

const attrsOf = (attrs: tf.NamedAttrMap | undefined) => attrs as unknown as HeadAttrs;
const hdOf = (a: HeadAttrs, width: number) => width / (3 * a.h);

const split: FusedKernel = {
  name: SPLIT_HEADS,
  outputs: ({ y }, attrs) => {
    const a = attrsOf(attrs);
    const shape = [a.b * a.h, a.t, hdOf(a, y!.shape[1])];
    return [shape, shape, shape];
  },
  js(v, heads, args) {
    const a = attrsOf(args.attrs);
    moveHeads(v.y!, heads, a, hdOf(a, (args.inputs.y as tf.TensorInfo).shape[1]), false);
  },
  native(addon, heap, at, [q, k, vv], args) {
    if (addon.splitHeads == null) return false;
    const a = attrsOf(args.attrs);
    nativeDesc.set([at.y, q, k, vv, a.b, a.t, a.h, hdOf(a, (args.inputs.y as tf.TensorInfo).shape[1]), 0]);
    addon.splitHeads(heap, nativeDesc);
    return true;
  },
};

const merge: FusedKernel = {
  name: MERGE_HEADS,
  outputs: ({ q }, attrs) => {
    const a = attrsOf(attrs);
    return [[a.b * a.t, 3 * a.h * q!.shape[2]]];
  },
  js(v, [y], args) {
    const a = attrsOf(args.attrs);
    moveHeads(y, [v.q!, v.k!, v.v!], a, (args.inputs.q as tf.TensorInfo).shape[2], true);
  },
  native(addon, heap, at, [y], args) {
    if (addon.splitHeads == null) return false;
    const a = attrsOf(args.attrs);
    nativeDesc.set([y, at.q, at.k, at.v, a.b, a.t, a.h, (args.inputs.q as tf.TensorInfo).shape[2], 1]);
    addon.splitHeads(heap, nativeDesc);
    return true;
  },
};

/** Registers both kernels for wasm and cpu, and the split's gradient (the merge of the output gradients). */
export function registerHeadsKernels(): void {
  registerFusedKernel(split);
  registerFusedKernel(merge);
  if (tf.getGradient(SPLIT_HEADS) != null) return;
  tf.registerGradient({
    kernelName: SPLIT_HEADS,
    gradFunc: (dys, _saved, attrs) => {
      const grads = (Array.isArray(dys) ? dys : [dys]) as Array<tf.Tensor | null>;
      const like = grads.find((g) => g != null)!;
      const [q, k, v] = grads.map((g) => g ?? tf.zerosLike(like));
      return { y: () => tf.engine().runKernel(MERGE_HEADS, { q, k, v }, attrs) as tf.Tensor };
    },
  });
}

export function hasHeadsKernels(): boolean {
  return hasKernel(SPLIT_HEADS);
}
