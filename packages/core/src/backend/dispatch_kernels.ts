import * as tf from '@tensorflow/tfjs';
import {
  type FusedKernel,
  type KernelArgs,
  hasKernel,
  nativeDesc,
  registerFusedKernel,
} from './fused_kernels.js';
import type { NativeBlasAddon } from './native_blas.js';

/**
 * `MoevlDispatchTokens` and `MoevlCombineTokens`, with their gradient kernels: sparse MoE's token ↔ buffer
 * moves (`ops/dispatch.ts`) as one pass of row copies over the tensors' memory (the wasm heap in place, cpu's
 * arrays) each way. The composite they replace computes every choice's buffer slot `e·C + p` with seven small
 * ops (twice: once for dispatch, once for combine), then segment sums, a gather, a batched `[S,1,K]×[S,K,D]`
 * product and their gradients: a dozen kernels and their tape entries per MoE layer and direction.
 *
 * Slots: choice (s, k) goes to `expertIndex[s,k]·C + position[s,k]`; a choice whose position is < 0 or ≥ C, or
 * whose slot is outside `[0, E·C)`, is dropped and moves nothing. A slot named twice (no router does that:
 * `checkRoutingResult` refuses it) sums its rows, as the segment sum did.
 *
 *  - dispatch: `buffers[slot(s,k)] += x[s]` (`[S, D] → [E, C, D]`); gradient `dx[s] = Σ_k dBuffers[slot(s,k)]`;
 *  - combine: `out[s] = Σ_k w[s,k]·y[slot(s,k)]`; gradients `dy[slot(s,k)] += w[s,k]·dOut[s]` and
 *    `dw[s,k] = ⟨dOut[s], y[slot(s,k)]⟩` (0 for a dropped choice).
 *
 * On wasm the native addon runs them when built (`moveTokens`, bitwise these JavaScript bodies: the same
 * float64 sums rounded once, the same order; the moves by token threaded).
 */

export const DISPATCH_TOKENS = 'MoevlDispatchTokens';
export const DISPATCH_TOKENS_GRAD = 'MoevlDispatchTokensGrad';
export const COMBINE_TOKENS = 'MoevlCombineTokens';
export const COMBINE_TOKENS_GRAD = 'MoevlCombineTokensGrad';
export const COMBINE_TOKENS_WEIGHTS_GRAD = 'MoevlCombineTokensWeightsGrad';

interface SlotAttrs {
  numExperts: number;
  capacity: number;
}

const attrsOf = (args: KernelArgs) => args.attrs as unknown as SlotAttrs;
const ints = (v: Float32Array | null) => v as unknown as Int32Array;
const info = (args: KernelArgs, name: string) => args.inputs[name] as tf.TensorInfo;

// Scratch arrays reused across calls (the kernels run synchronously, one at a time): allocating them per
// call leaves garbage that a training step's collector then charges to whichever kernel runs next.
let slotScratch = new Int32Array(0);
let filledScratch = new Uint8Array(0);

/** `n` zeroed "row written" flags (a view of the scratch array, valid until the next call). */
function filledFlags(n: number): Uint8Array {
  if (filledScratch.length < n) filledScratch = new Uint8Array(Math.max(n, 2 * filledScratch.length));
  const flags = filledScratch.subarray(0, n);
  flags.fill(0);
  return flags;
}

/** Buffer slot of every choice (`[S·K]`), −1 where dropped (a view of the scratch array). */
export function choiceSlots(
  expertIndex: Int32Array,
  position: Int32Array,
  numExperts: number,
  capacity: number,
): Int32Array {
  const n = expertIndex.length;
  if (slotScratch.length < n) slotScratch = new Int32Array(Math.max(n, 2 * slotScratch.length));
  const slots = slotScratch;
  const total = numExperts * capacity;
  for (let i = 0; i < n; i++) {
    const p = position[i];
    const slot = expertIndex[i] * capacity + p;
    slots[i] = p >= 0 && p < capacity && slot >= 0 && slot < total ? slot : -1;
  }
  return slots;
}

/** Row `src` of `from` into row `dst` of `to` (width `d`): copied when `first`, else added. */
function moveRow(to: Float32Array, dst: number, from: Float32Array, src: number, d: number, first: boolean) {
  const [o, i] = [dst * d, src * d];
  if (first && d >= 16) to.set(from.subarray(i, i + d), o);
  else if (first) for (let j = 0; j < d; j++) to[o + j] = from[i + j];
  else for (let j = 0; j < d; j++) to[o + j] += from[i + j];
}

/** `w ×` row `src` of `from` into row `dst` of `to`: set when `first`, else added (one rounding each). */
function scaleRow(
  to: Float32Array,
  dst: number,
  from: Float32Array,
  src: number,
  d: number,
  w: number,
  first: boolean,
) {
  const [o, i] = [dst * d, src * d];
  if (first) for (let j = 0; j < d; j++) to[o + j] = w * from[i + j];
  else for (let j = 0; j < d; j++) to[o + j] += w * from[i + j];
}

/** Zeroes the rows (width `d`) of `to` that `filled` does not mark: nothing was moved there. */
function zeroUnfilled(to: Float32Array, filled: Uint8Array, d: number) {
  for (let r = 0; r < filled.length; r++) if (filled[r] === 0) to.fill(0, r * d, (r + 1) * d);
}

/** The addon's `moveTokens` kind codes (moevl_kernels.h). */
const MOVE = { dispatch: 0, dispatchGrad: 1, combine: 2, combineGrad: 3, combineWeightsGrad: 4 } as const;

/** A `native` body for kernel kind `kind`: `input` is the moved tensor, `y` the expert outputs if needed. */
function nativeMove(kind: number, input: string, y?: string): FusedKernel['native'] {
  return (addon: NativeBlasAddon, heap, at, [out], args) => {
    if (addon.moveTokens == null) return false;
    const [s, k] = info(args, 'expertIndex').shape;
    const moved = info(args, input).shape;
    const d = moved[moved.length - 1];
    // Dispatch makes the buffers (their size is an attribute); every other kind reads them.
    const buffers =
      kind === MOVE.dispatch ? null : info(args, kind === MOVE.dispatchGrad ? 'dy' : 'expertOutput');
    const numExperts = buffers?.shape[0] ?? attrsOf(args).numExperts;
    const capacity = buffers?.shape[1] ?? attrsOf(args).capacity;
    const w = kind === MOVE.combine || kind === MOVE.combineGrad ? at.weights : -1;
    nativeDesc.set([kind, at[input], y == null ? -1 : at[y], at.expertIndex, at.position, w, out]);
    nativeDesc.set([s, k, d, numExperts, capacity], 7);
    addon.moveTokens(heap, nativeDesc);
    return true;
  };
}

const dispatch: FusedKernel = {
  name: DISPATCH_TOKENS,
  outputs: ({ x }, attrs) => {
    const { numExperts, capacity } = attrs as unknown as SlotAttrs;
    return [[numExperts, capacity, x!.shape[1]]];
  },
  js(v, [buffers], args) {
    const { numExperts, capacity } = attrsOf(args);
    const [s, k] = info(args, 'expertIndex').shape;
    const d = info(args, 'x').shape[1];
    const slots = choiceSlots(ints(v.expertIndex), ints(v.position), numExperts, capacity);
    const x = v.x!;
    const filled = filledFlags(numExperts * capacity);
    // Choice by choice, token by token: the order in which the per-choice segment sums added rows.
    for (let c = 0; c < k; c++)
      for (let t = 0; t < s; t++) {
        const slot = slots[t * k + c];
        if (slot < 0) continue;
        moveRow(buffers, slot, x, t, d, filled[slot] === 0);
        filled[slot] = 1;
      }
    zeroUnfilled(buffers, filled, d);
  },
  native: nativeMove(MOVE.dispatch, 'x'),
};

const dispatchGrad: FusedKernel = {
  name: DISPATCH_TOKENS_GRAD,
  outputs: ({ dy, expertIndex }) => [[expertIndex!.shape[0], dy!.shape[2]]],
  js(v, [dx], args) {
    const [s, k] = info(args, 'expertIndex').shape;
    const [e, capacity, d] = info(args, 'dy').shape;
    const slots = choiceSlots(ints(v.expertIndex), ints(v.position), e, capacity);
    const dy = v.dy!;
    const filled = filledFlags(s);
    for (let t = 0; t < s; t++)
      for (let c = 0; c < k; c++) {
        const slot = slots[t * k + c];
        if (slot < 0) continue;
        moveRow(dx, t, dy, slot, d, filled[t] === 0);
        filled[t] = 1;
      }
    zeroUnfilled(dx, filled, d);
  },
  native: nativeMove(MOVE.dispatchGrad, 'dy'),
};

const combine: FusedKernel = {
  name: COMBINE_TOKENS,
  outputs: ({ expertOutput, expertIndex }) => [[expertIndex!.shape[0], expertOutput!.shape[2]]],
  js(v, [out], args) {
    const [s, k] = info(args, 'expertIndex').shape;
    const [e, capacity, d] = info(args, 'expertOutput').shape;
    const slots = choiceSlots(ints(v.expertIndex), ints(v.position), e, capacity);
    const [y, w] = [v.expertOutput!, v.weights!];
    const filled = filledFlags(s);
    for (let t = 0; t < s; t++)
      for (let c = 0; c < k; c++) {
        const slot = slots[t * k + c];
        if (slot < 0) continue;
        scaleRow(out, t, y, slot, d, w[t * k + c], filled[t] === 0);
        filled[t] = 1;
      }
    zeroUnfilled(out, filled, d);
  },
  native: nativeMove(MOVE.combine, 'expertOutput'),
};

/** `dy[slot] += w·dOut[s]` of every kept choice (`dExpertOutput`), or else `dw[s,k] = ⟨dOut[s], y[slot]⟩`. */
function combineGrad(name: string, ofExpertOutput: boolean): FusedKernel {
  return {
    name,
    outputs: ({ expertOutput, weights }) => [ofExpertOutput ? expertOutput!.shape : weights!.shape],
    js(v, [out], args) {
      const [s, k] = info(args, 'expertIndex').shape;
      const [e, capacity, d] = info(args, 'expertOutput').shape;
      const slots = choiceSlots(ints(v.expertIndex), ints(v.position), e, capacity);
      const [g, y, w] = [v.dy!, v.expertOutput!, v.weights!];
      if (ofExpertOutput) {
        const filled = filledFlags(e * capacity);
        for (let t = 0; t < s; t++)
          for (let c = 0; c < k; c++) {
            const slot = slots[t * k + c];
            if (slot < 0) continue;
            scaleRow(out, slot, g, t, d, w[t * k + c], filled[slot] === 0);
            filled[slot] = 1;
          }
        zeroUnfilled(out, filled, d);
        return;
      }
      for (let i = 0; i < s * k; i++) {
        const slot = slots[i];
        let dot = 0;
        if (slot >= 0) {
          const [o, at] = [Math.floor(i / k) * d, slot * d];
          for (let j = 0; j < d; j++) dot += g[o + j] * y[at + j];
        }
        out[i] = dot;
      }
    },
    native: ofExpertOutput
      ? nativeMove(MOVE.combineGrad, 'dy')
      : nativeMove(MOVE.combineWeightsGrad, 'dy', 'expertOutput'),
  };
}

/**
 * The integer inputs (expert index, position) have no gradient: float32 zeros (what the tape accepts), asked
 * for only when they lie on the path from a differentiated tensor.
 */
const noGrad = (t: tf.Tensor) => () => tf.zeros(t.shape, 'float32');

/** Registers the five kernels for wasm and cpu, and the gradients of the two forward ones. */
export function registerDispatchKernels(): void {
  const grads = [combineGrad(COMBINE_TOKENS_GRAD, true), combineGrad(COMBINE_TOKENS_WEIGHTS_GRAD, false)];
  for (const k of [dispatch, dispatchGrad, combine, ...grads]) registerFusedKernel(k);
  if (tf.getGradient(DISPATCH_TOKENS) != null) return;
  tf.registerGradient({
    kernelName: DISPATCH_TOKENS,
    inputsToSave: ['expertIndex', 'position'],
    gradFunc: (dy, [expertIndex, position]) => ({
      x: () =>
        tf
          .engine()
          .runKernel(DISPATCH_TOKENS_GRAD, { dy: dy as tf.Tensor, expertIndex, position }) as tf.Tensor,
      expertIndex: noGrad(expertIndex),
      position: noGrad(position),
    }),
  });
  tf.registerGradient({
    kernelName: COMBINE_TOKENS,
    inputsToSave: ['expertOutput', 'expertIndex', 'position', 'weights'],
    gradFunc: (dy, [expertOutput, expertIndex, position, weights]) => {
      const inputs = { dy: dy as tf.Tensor, expertOutput, expertIndex, position, weights };
      const run = (name: string) => () => tf.engine().runKernel(name, inputs) as tf.Tensor;
      return {
        expertOutput: run(COMBINE_TOKENS_GRAD),
        weights: run(COMBINE_TOKENS_WEIGHTS_GRAD),
        expertIndex: noGrad(expertIndex),
        position: noGrad(position),
      };
    },
  });
}

/** Whether the active backend runs the fused dispatch/combine kernels (else `ops/dispatch.ts` composes them). */
export function hasDispatchKernels(): boolean {
  return hasKernel(DISPATCH_TOKENS);
}
