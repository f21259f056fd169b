import * as tf from '@tensorflow/tfjs';
import { ratio } from '../metrics/input.js';

/** `[gateExperts, kept.length]` with a 1 at (kept[i], i): scores·selection picks the kept columns. */
export function keptSelection(kept: number[], gateExperts: number): tf.Tensor2D {
  const data = new Float32Array(gateExperts * kept.length);
  kept.forEach((e, i) => (data[e * kept.length + i] = 1));
  return tf.tensor2d(data, [gateExperts, kept.length]);
}

/**
 * The success-rate metrics with each token's own k_t as its number of choices: `routingMetrics` sees K =
 * max k_t choices for every token and would count a k=1 task's padding choices as dropped.
 */
export function ownKSuccessRates(
  position: Int32Array,
  taskIds: Int32Array,
  real: Uint8Array | null,
  kTask: number[],
  K: number,
  T: number,
) {
  const kept = new Array<number>(T).fill(0);
  const choices = new Array<number>(T).fill(0);
  let tokens = 0;
  let droppedEntirely = 0;
  for (let s = 0; s < taskIds.length; s++) {
    if (real != null && !real[s]) continue;
    const t = taskIds[s];
    let keptHere = 0;
    for (let j = 0; j < K; j++) keptHere += position[s * K + j] >= 0 ? 1 : 0;
    tokens++;
    kept[t] += keptHere;
    choices[t] += kTask[t];
    if (keptHere === 0) droppedEntirely++;
  }
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const rate = ratio(sum(kept), sum(choices));
  return {
    routingSuccessRate: rate,
    droppedFraction: rate == null ? null : 1 - rate,
    tokensDroppedEntirely: ratio(droppedEntirely, tokens),
    routingSuccessRateByTask: kept.map((n, t) => ratio(n, choices[t])),
  };
}
