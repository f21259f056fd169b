import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@moevl/core';
import { ZeroShotEvalError } from './eval_error.js';
import type { ZeroShotEvalResult } from './eval_result.js';

/**
 * Result files: what a shard leaves for `merge`, and what a user keeps next to a paper's table. Written
 * atomically (a killed run never leaves half a JSON file for a later merge to choke on) and validated on
 * reading, so a truncated or foreign file fails with its name and the first thing wrong instead of a
 * `TypeError` deep inside the merge.
 */

/** Writes `result` as pretty JSON, atomically (creating the folder). Metrics hold null, never NaN. */
export async function writeEvalResult(path: string, result: ZeroShotEvalResult): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(result, null, 2) + '\n');
}

type Check = (v: unknown) => boolean;
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isInt: Check = (v) => Number.isInteger(v);
const isNatural: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const isString: Check = (v) => typeof v === 'string';
const isRate: Check = (v) => v === null || (isNumber(v) && (v as number) >= 0 && (v as number) <= 1);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first problem in `value` as a result, or null. Checks what merging and rendering rely on. */
function findProblem(value: unknown): string | null {
  if (!isObject(value)) return 'the top level is not a JSON object';
  const r = value;
  const fields: Array<[string, unknown, Check, string]> = [
    ['dataset', r.dataset, isString, 'a string'],
    ['model', r.model, isString, 'a string'],
    ['templates', r.templates, isNatural, 'a count'],
    ['classes', r.classes, (v) => isInt(v) && (v as number) > 0, 'a positive count'],
    ['topK', r.topK, (v) => isInt(v) && (v as number) > 0, 'a positive count'],
  ];
  for (const [name, v, ok, what] of fields) if (!ok(v)) return `"${name}" is not ${what}`;
  const m = r.metrics;
  if (!isObject(m)) return '"metrics" is missing';
  for (const k of ['top1', 'top5', 'meanPerClassRecall'])
    if (!isRate(m[k])) return `"metrics.${k}" is not null or in [0, 1]`;
  if (!Array.isArray(m.perClassRecall) || !m.perClassRecall.every(isRate)) {
    return '"metrics.perClassRecall" is not a list of rates';
  }
  const c = r.counts;
  if (!isObject(c)) return '"counts" is missing';
  for (const k of ['items', 'evaluated', 'skipped'])
    if (!isNatural(c[k])) return `"counts.${k}" is not a count`;
  if (!Array.isArray(c.skippedFiles)) return '"counts.skippedFiles" is not a list';
  const badSkip = c.skippedFiles.findIndex((s) => !isObject(s) || !isNatural(s.index) || !isString(s.id));
  if (badSkip >= 0) return `"counts.skippedFiles[${badSkip}]" lacks an index or id`;
  const t = r.timing;
  if (
    !isObject(t) ||
    !isNumber(t.seconds) ||
    !isNumber(t.imagesPerSecond) ||
    !isNumber(t.classifierSeconds)
  ) {
    return '"timing" is missing or not numeric';
  }
  if (r.shard !== undefined) {
    const s = r.shard;
    if (
      !isObject(s) ||
      !isNatural(s.index) ||
      !isInt(s.count) ||
      (s.index as number) >= (s.count as number)
    ) {
      return '"shard" is not {index, count} with index < count';
    }
    // Where --shard auto found the shard (slurm, kubernetes, …): recorded for people, ignored by merge.
    if (s.source !== undefined && !isString(s.source)) return '"shard.source" is not a string';
  }
  const s = r.sampling;
  if (!isObject(s) || !isNatural(s.datasetItems) || !isNatural(s.selected) || !isInt(s.seed)) {
    return '"sampling" is missing or malformed';
  }
  if (!isObject(r.hashes) || !isString(r.hashes.classNames) || !isString(r.hashes.templates)) {
    return '"hashes" is missing';
  }
  if (r.classIndices !== undefined && (!Array.isArray(r.classIndices) || !r.classIndices.every(isNatural))) {
    return '"classIndices" is not a list of class indices';
  }
  if (!Array.isArray(r.warnings)) return '"warnings" is not a list';
  if (!Array.isArray(r.predictions)) return '"predictions" is not a list';
  for (let i = 0; i < r.predictions.length; i++) {
    const p: unknown = r.predictions[i];
    const ok =
      isObject(p) &&
      isNatural(p.index) &&
      isString(p.id) &&
      isNatural(p.label) &&
      (p.label as number) < (r.classes as number) &&
      isNatural(p.rank) &&
      Array.isArray(p.top) &&
      p.top.every((e) => isObject(e) && isNatural(e.class) && typeof e.score === 'number');
    if (!ok) return `"predictions[${i}]" is not {index, id, label, top: [{class, score}], rank}`;
  }
  return null;
}

/** Reads a result written by `writeEvalResult`; a malformed file fails naming the file and the problem. */
export async function readEvalResult(path: string): Promise<ZeroShotEvalResult> {
  const fail = (problem: string, cause?: unknown): never => {
    throw new ZeroShotEvalError(`${path}: ${problem}; expected a result written by zero-shot eval.`, {
      code: 'bad-result-file',
      file: path,
      cause,
    });
  };
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    fail(code === 'ENOENT' ? 'no such file' : `cannot read it (${(err as Error).message})`, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail(`not valid JSON (${(err as Error).message})`, err);
  }
  const problem = findProblem(value);
  if (problem !== null) fail(problem);
  return value as ZeroShotEvalResult;
}
