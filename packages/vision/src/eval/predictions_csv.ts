import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@moevl/core';
import type { ZeroShotEvalResult } from './eval_result.js';

/** RFC 4180 quoting: only fields with a comma, quote, line break or edge spaces are quoted. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A logit with 4 decimals: enough to order the top classes, short enough to read. */
function formatScore(score: number): string {
  return Number.isFinite(score) ? String(Math.round(score * 1e4) / 1e4) : String(score);
}

/**
 * One row per evaluated image — `file,true,top1,score1,...,topK,scoreK` with class names, scores being
 * logits (logitScale · cosine) — for looking at mistakes in a spreadsheet. Names go through CSV quoting,
 * since ImageNet class names and file paths may hold commas and quotes. Written atomically.
 */
export async function writePredictionsCsv(
  path: string,
  result: ZeroShotEvalResult,
  classNames: string[],
): Promise<void> {
  const k = result.topK ?? Math.max(0, ...result.predictions.map((p) => p.top.length));
  const name = (c: number) => classNames[c] ?? String(c);
  const header = ['file', 'true'];
  for (let j = 1; j <= k; j++) header.push(`top${j}`, `score${j}`);
  const lines = [header.join(',')];
  for (const p of result.predictions) {
    const row = [csvField(p.id), csvField(name(p.label))];
    for (let j = 0; j < k; j++) {
      const t = p.top[j];
      row.push(t ? csvField(name(t.class)) : '', t ? formatScore(t.score) : '');
    }
    lines.push(row.join(','));
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, lines.join('\n') + '\n');
}
