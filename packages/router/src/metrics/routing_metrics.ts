import { assertInteger } from '@moevl/core';
import {
  type MatrixInput,
  type VectorInput,
  ratio,
  readLabels,
  readMask,
  readMatrix,
  readVector,
} from './input.js';

export interface RoutingMetricsInput {
  /** `[S, K]` expert of each choice (`assignTopK`'s output, or the same as nested arrays). */
  expertIndex: MatrixInput;
  /** `[S, K]` buffer position; a choice is kept iff 0 ≤ position < capacity (−1 = dropped). */
  position: MatrixInput;
  /** `[S, E]` router probabilities (softmax), for the importance statistic. */
  gates: MatrixInput;
  numExperts: number;
  capacity: number;
  /** `[S]` 0 = padding: excluded from every statistic. */
  mask?: VectorInput;
  /** `[S]` modality id per token (LIMoE: 0 = image, 1 = text). */
  modality?: VectorInput;
  /** Number of modalities M; defaults to max(modality) + 1. */
  numModalities?: number;
  /** `[S]` task id per token (Mod-Squad / AdaMV-MoE). */
  task?: VectorInput;
  /** Number of tasks T; defaults to max(task) + 1. */
  numTasks?: number;
  /**
   * `[S]` each token's own number of choices (task-conditioned routing's k_t, `assignTopK`'s `kPerToken`):
   * success rates count k_s choices for token s, not K, so a k = 1 task's padding choices are not "dropped".
   * Default: K for every token.
   */
  kPerToken?: VectorInput;
}

/**
 * What one routing step did, as plain JSON-serialisable data (no tensors). Every ratio is null where its
 * denominator is 0 (no real token, no kept choice, a modality absent from the batch), never NaN.
 */
export interface RoutingMetrics {
  numExperts: number;
  capacity: number;
  /** Real (unmasked) tokens S. */
  tokens: number;
  /** Choices per token K. */
  k: number;
  /** `[E]` kept choices per expert. */
  expertCounts: number[];
  /** `[E]` share of all kept choices that went to each expert (sums to 1); null if nothing was kept. */
  load: number[] | null;
  /** Mean fraction of the E·C buffer slots that hold a token. */
  bufferFill: number;
  /** Fraction of real tokens' choices that were not dropped (LIMoE's "routing success rate"). */
  routingSuccessRate: number | null;
  /** 1 − routingSuccessRate. */
  droppedFraction: number | null;
  /** Fraction of real tokens with every choice dropped: they skip the MoE layer entirely. */
  tokensDroppedEntirely: number | null;
  /** std/mean (ddof 0) of importance_e = Σ_tokens gates[s, e], the statistic V-MoE's importance loss squares. */
  importanceCV: number | null;
  /** `[M]` routing success rate of each modality's tokens; null entries for modalities absent here. */
  routingSuccessRateByModality: (number | null)[] | null;
  /** `[T]` same per task. */
  routingSuccessRateByTask: (number | null)[] | null;
  /** `[M][E]` kept choices of modality m's tokens on expert e (LIMoE's expert specialisation plots). */
  expertModalityUsage: number[][] | null;
  /** `[T][E]` kept choices of task t's tokens on expert e (Mod-Squad's task × expert matrix). */
  expertTaskUsage: number[][] | null;
}

interface GroupStats {
  successRate: (number | null)[];
  usage: number[][];
}

/**
 * Routing statistics of one MoE layer for one batch: expert load, dropped choices (overall, per modality,
 * per task), and importance balance. Read once from tensors into JS, so the result can be logged as JSON
 * or averaged over layers with `mergeMetrics`. Tokens masked out (padding) count nowhere.
 */
export function routingMetrics(input: RoutingMetricsInput): RoutingMetrics {
  const op = 'routingMetrics';
  const { numExperts: E, capacity } = input;
  assertInteger(`${op}: numExperts`, E, { min: 1 });
  assertInteger(`${op}: capacity`, capacity, { min: 1 });
  const index = readMatrix(op, 'expertIndex', input.expertIndex);
  const pos = readMatrix(op, 'position', input.position);
  const gates = readMatrix(op, 'gates', input.gates);
  const S = index.rows;
  const K = index.cols;
  if (pos.rows !== S || pos.cols !== K) {
    throw new Error(`${op}: position [${pos.rows}, ${pos.cols}] must match expertIndex [${S}, ${K}].`);
  }
  if (gates.rows !== S || gates.cols !== E) {
    throw new Error(
      `${op}: gates must be [${S}, ${E}] (tokens, numExperts), got [${gates.rows}, ${gates.cols}].`,
    );
  }
  const real = readMask(op, input.mask, S);
  const own = input.kPerToken == null ? null : readVector(op, 'kPerToken', input.kPerToken, S);
  const choicesOf = (s: number) => (own == null ? K : own[s]);

  // kept[s*K + j]: choice j of a real token s landed in a buffer slot.
  const kept = new Uint8Array(S * K);
  const expertCounts = new Array<number>(E).fill(0);
  let realTokens = 0;
  let keptTotal = 0;
  let choices = 0;
  let droppedEntirely = 0;
  for (let s = 0; s < S; s++) {
    if (!real[s]) continue;
    realTokens++;
    choices += choicesOf(s);
    let keptHere = 0;
    for (let j = 0; j < K; j++) {
      const p = pos.data[s * K + j];
      if (!(p >= 0 && p < capacity)) continue;
      const e = index.data[s * K + j];
      if (!Number.isInteger(e) || e < 0 || e >= E) {
        throw new Error(`${op}: expertIndex[${s}][${j}] = ${e} is outside [0, ${E}).`);
      }
      kept[s * K + j] = 1;
      expertCounts[e]++;
      keptHere++;
    }
    keptTotal += keptHere;
    if (keptHere === 0) droppedEntirely++;
  }
  const successRate = ratio(keptTotal, choices);

  const groups = (
    name: string,
    countName: string,
    labels?: VectorInput,
    count?: number,
  ): GroupStats | null => {
    if (labels == null) return null;
    const read = readLabels(op, name, countName, labels, S, count);
    const keptIn = new Array<number>(read.count).fill(0);
    const choicesIn = new Array<number>(read.count).fill(0);
    const usage = Array.from({ length: read.count }, () => new Array<number>(E).fill(0));
    for (let s = 0; s < S; s++) {
      if (!real[s]) continue;
      const g = read.labels[s];
      choicesIn[g] += choicesOf(s);
      for (let j = 0; j < K; j++) {
        if (!kept[s * K + j]) continue;
        keptIn[g]++;
        usage[g][index.data[s * K + j]]++;
      }
    }
    return { successRate: keptIn.map((n, g) => ratio(n, choicesIn[g])), usage };
  };
  const byModality = groups('modality', 'numModalities', input.modality, input.numModalities);
  const byTask = groups('task', 'numTasks', input.task, input.numTasks);

  return {
    numExperts: E,
    capacity,
    tokens: realTokens,
    k: K,
    expertCounts,
    load: keptTotal === 0 ? null : expertCounts.map((n) => n / keptTotal),
    bufferFill: keptTotal / (E * capacity),
    routingSuccessRate: successRate,
    droppedFraction: successRate == null ? null : 1 - successRate,
    tokensDroppedEntirely: ratio(droppedEntirely, realTokens),
    importanceCV: importanceCV(gates.data, real, S, E),
    routingSuccessRateByModality: byModality?.successRate ?? null,
    routingSuccessRateByTask: byTask?.successRate ?? null,
    expertModalityUsage: byModality?.usage ?? null,
    expertTaskUsage: byTask?.usage ?? null,
  };
}

/** Coefficient of variation (population std / mean) of per-expert gate sums over real tokens. */
function importanceCV(gates: ArrayLike<number>, real: Uint8Array, S: number, E: number): number | null {
  const importance = new Float64Array(E);
  for (let s = 0; s < S; s++) {
    if (!real[s]) continue;
    for (let e = 0; e < E; e++) importance[e] += gates[s * E + e];
  }
  let mean = 0;
  for (let e = 0; e < E; e++) mean += importance[e] / E;
  let variance = 0;
  for (let e = 0; e < E; e++) variance += (importance[e] - mean) ** 2 / E;
  return ratio(Math.sqrt(variance), mean);
}
