import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FileLock, FileLockedError, acquireLock, writeFileAtomic } from '@moevl/core';
import { ZeroShotEvalError } from './eval_error.js';
import type { SkippedItem, ZeroShotPrediction } from './eval_result.js';

/**
 * Partial predictions of a long evaluation, kept in a work dir so a stopped or crashed run resumes
 * without recomputing finished batches. Two files (suffixed `.shard-<i>-of-<n>` for a shard, so shards may
 * share a work dir):
 *
 * - `state.json`, written atomically: the fingerprint of the run (dataset, model, classes, templates,
 *   sampling, shard, items). Resuming under a different fingerprint is refused: mixing predictions of two
 *   configurations would give numbers that belong to neither.
 * - `predictions.jsonl`, append-only: one line per finished batch, so a batch is either wholly recorded or
 *   (a torn last line after a crash) ignored and recomputed.
 */

/** Everything that decides which items a run covers and what their predictions mean. */
export interface RunFingerprint {
  version: 2;
  dataset: string;
  model: string;
  /** Hash of the model's fingerprint (weights) and evaluation routing; null when it has neither. */
  modelHash: string | null;
  classes: number;
  classNamesHash: string;
  templatesHash: string;
  classIndices: number[] | null;
  topK: number;
  sampling: { datasetItems: number; selected: number; limit: number | null; seed: number };
  shard: { index: number; count: number } | null;
  /** Items of this run and a hash of their indices, ids and labels. */
  items: number;
  itemsHash: string;
}

/** One finished batch. */
export interface BatchRecord {
  batch: number;
  predictions: ZeroShotPrediction[];
  skipped: SkippedItem[];
}

export function workDirFiles(
  workDir: string,
  shard?: { index: number; count: number },
): { state: string; predictions: string; lock: string } {
  const suffix = shard ? `.shard-${shard.index}-of-${shard.count}` : '';
  return {
    state: join(workDir, `state${suffix}.json`),
    predictions: join(workDir, `predictions${suffix}.jsonl`),
    lock: join(workDir, `lock${suffix}`),
  };
}

function isBatchRecord(v: unknown): v is BatchRecord {
  const r = v as BatchRecord | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    Number.isInteger(r.batch) &&
    Array.isArray(r.predictions) &&
    Array.isArray(r.skipped)
  );
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
}

/** The first fingerprint field that differs, for an error message that says what changed. */
function firstDifference(saved: Record<string, unknown>, current: RunFingerprint): string | null {
  for (const [field, value] of Object.entries(current)) {
    if (JSON.stringify(saved[field]) !== JSON.stringify(value)) {
      const show = (x: unknown) => {
        const s = JSON.stringify(x) ?? 'nothing';
        return s.length > 80 ? `${s.slice(0, 77)}...` : s;
      };
      return `${field} was ${show(saved[field])}, now ${show(value)}`;
    }
  }
  return null;
}

/** The partial predictions of one run in a work dir. */
export class PartialPredictions {
  private constructor(
    readonly files: { state: string; predictions: string; lock: string },
    private readonly lock: FileLock,
    /** Batches finished by earlier calls (empty unless resuming). */
    readonly finished: BatchRecord[],
    /** What was noticed while resuming (torn lines dropped, nothing to resume). */
    readonly notes: string[],
  ) {}

  /**
   * Opens the work dir for `fingerprint`, holding its lock until `close()`: a second evaluation of the same
   * work dir (and shard) fails with code 'work-dir-locked' naming the process that has it. Without `resume`
   * any earlier partial predictions there are replaced. With `resume`, finished batches are read back; a
   * work dir holding another run's state is an error, and an empty one simply starts from the beginning.
   */
  static async open(
    workDir: string,
    fingerprint: RunFingerprint,
    options: { resume: boolean },
  ): Promise<PartialPredictions> {
    const shard = fingerprint.shard ?? undefined;
    const files = workDirFiles(workDir, shard);
    await mkdir(workDir, { recursive: true });
    let lock: FileLock;
    try {
      lock = await acquireLock(files.lock, { label: `the work dir ${workDir}` });
    } catch (err) {
      if (!(err instanceof FileLockedError)) throw err;
      const h = err.holder;
      throw new ZeroShotEvalError(
        `the work dir ${workDir} is in use by process ${h.pid} on ${h.host} (since ${h.since}); wait for it ` +
          `to finish, use another work dir, or remove ${files.lock} if that process is gone.`,
        { code: 'work-dir-locked', file: files.lock, cause: err },
      );
    }
    try {
      return await PartialPredictions.read(files, lock, fingerprint, options);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private static async read(
    files: { state: string; predictions: string; lock: string },
    lock: FileLock,
    fingerprint: RunFingerprint,
    options: { resume: boolean },
  ): Promise<PartialPredictions> {
    const notes: string[] = [];
    if (lock.tookOverStale) {
      notes.push(
        `${files.lock}: took over a stale lock of process ${lock.tookOverStale.pid} on ${lock.tookOverStale.host}.`,
      );
    }
    if (options.resume) {
      const stateText = await readText(files.state);
      if (stateText !== null) {
        let saved: Record<string, unknown>;
        try {
          saved = JSON.parse(stateText) as Record<string, unknown>;
        } catch (err) {
          throw new ZeroShotEvalError(
            `${files.state}: not valid JSON; delete the work dir or run without resume.`,
            { code: 'work-dir-mismatch', file: files.state, cause: err },
          );
        }
        const diff = firstDifference(saved, fingerprint);
        if (diff !== null) {
          throw new ZeroShotEvalError(
            `${files.state} holds a different evaluation (${diff}); use another work dir, or run ` +
              'without resume to start over.',
            { code: 'work-dir-mismatch', file: files.state },
          );
        }
        const text = (await readText(files.predictions)) ?? '';
        const lines = text.split('\n').filter((l) => l.trim() !== '');
        const finished: BatchRecord[] = [];
        const kept: string[] = [];
        for (const line of lines) {
          let record: unknown;
          try {
            record = JSON.parse(line);
          } catch {
            continue; // a torn line from a crash mid-append: that batch is recomputed
          }
          if (isBatchRecord(record)) {
            finished.push(record);
            kept.push(line);
          }
        }
        if (kept.length !== lines.length) {
          notes.push(`${files.predictions}: ${lines.length - kept.length} incomplete line(s) dropped.`);
          await writeFileAtomic(files.predictions, kept.map((l) => l + '\n').join(''));
        }
        return new PartialPredictions(files, lock, finished, notes);
      }
      notes.push(`${files.state}: nothing to resume; starting from the beginning.`);
    }
    // Predictions first: a crash in between leaves an empty log under the old state, never old
    // predictions under a new state.
    await writeFileAtomic(files.predictions, '');
    await writeFileAtomic(files.state, JSON.stringify(fingerprint, null, 2) + '\n');
    return new PartialPredictions(files, lock, [], notes);
  }

  /** Releases the work dir's lock (the files stay). */
  async close(): Promise<void> {
    await this.lock.release();
  }

  /** Records a finished batch (one appended line). */
  async append(record: BatchRecord): Promise<void> {
    await appendFile(this.files.predictions, JSON.stringify(record) + '\n');
  }
}
