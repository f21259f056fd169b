import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic_write.js';
import { sha256Json } from '../../io/sha256_json.js';

/**
 * A run directory belongs to one training run. `run.json` records a hash of what defines the run (model
 * config, data, seed, optimiser settings: whatever the trainer passes as its fingerprint), so that
 * - training into a folder that already holds a run without `resume` is refused (as open_clip refuses an
 *   existing experiment name): two runs' checkpoints and log lines would otherwise mix;
 * - `resume` continues only a run of the same configuration, never another run's checkpoint.
 */

export const RUN_FILE = 'run.json';
const FORMAT = 'moevl-training-run/1';

/** The folder already holds a training run, and `resume` was not asked for. */
export class TrainingRunExistsError extends Error {
  override readonly name = 'TrainingRunExistsError';
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(message);
  }
}

/** `resume` was asked for, but the folder holds a run of another configuration. */
export class TrainingRunMismatchError extends Error {
  override readonly name = 'TrainingRunMismatchError';
  constructor(
    readonly dir: string,
    message: string,
    /** Top-level fingerprint keys whose values differ. */
    readonly differences: string[],
  ) {
    super(message);
  }
}

interface RunFile {
  format: string;
  fingerprintHash: string;
  fingerprint: unknown;
}

/** What a folder holds of a run: its run file (if any) and whether it has checkpoints or a log. */
async function inspect(dir: string): Promise<{ run?: RunFile; hasRunFiles: boolean }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { hasRunFiles: false };
    throw err;
  }
  const hasRunFiles = names.some(
    (n) => n === RUN_FILE || n === 'log.jsonl' || /^step-\d{8}\.safetensors$/.test(n),
  );
  if (!names.includes(RUN_FILE)) return { hasRunFiles };
  const path = join(dir, RUN_FILE);
  try {
    const run = JSON.parse(await readFile(path, 'utf8')) as RunFile;
    if (run.format !== FORMAT || typeof run.fingerprintHash !== 'string') throw new Error('unknown format');
    return { run, hasRunFiles };
  } catch (err) {
    throw new TrainingRunMismatchError(
      dir,
      `${path} is not a moevl run file (${(err as Error).message}); move the folder away or choose another.`,
      [],
    );
  }
}

function differingKeys(a: unknown, b: unknown): string[] {
  const objA = (a ?? {}) as Record<string, unknown>;
  const objB = (b ?? {}) as Record<string, unknown>;
  if (typeof objA !== 'object' || typeof objB !== 'object') return ['(fingerprint)'];
  const keys = new Set([...Object.keys(objA), ...Object.keys(objB)]);
  return [...keys].filter((k) => sha256Json(objA[k] ?? null) !== sha256Json(objB[k] ?? null)).sort();
}

/**
 * Claims `dir` for the run described by `fingerprint`: a fresh folder gets `run.json`; a folder with a run
 * is refused without `resume`, and with `resume` must hold a run of the same fingerprint. A folder with
 * checkpoints but no run file (written before run files existed) is resumed as before.
 */
export async function claimRunDirectory(
  dir: string,
  fingerprint: unknown,
  options: { resume: boolean; label?: string },
): Promise<void> {
  const label = options.label ?? dir;
  const { run, hasRunFiles } = await inspect(dir);
  const hash = sha256Json(fingerprint);
  if (hasRunFiles && !options.resume) {
    throw new TrainingRunExistsError(
      dir,
      `${label} already holds a training run; pass --resume to continue it, or choose another output folder.`,
    );
  }
  if (run !== undefined && run.fingerprintHash !== hash) {
    const differences = differingKeys(run.fingerprint, fingerprint);
    throw new TrainingRunMismatchError(
      dir,
      `${label} holds a training run of another configuration (${differences.join(', ') || 'fingerprint'} ` +
        'differ); resume it with the settings it was started with, or choose another output folder.',
      differences,
    );
  }
  if (run === undefined) {
    const file: RunFile = { format: FORMAT, fingerprintHash: hash, fingerprint };
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(file, null, 2) + '\n');
  }
}
