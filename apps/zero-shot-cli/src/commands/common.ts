import * as tf from '@tensorflow/tfjs';
import { type BackendName, type BackendReport, initBackend, parseBackendName } from '@moevl/core';
import { UsageError } from '../errors.js';

export interface CommonFlags {
  backend?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface IO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Options every command that runs a model accepts (parseArgs `options` entries). */
export const COMMON_OPTIONS = {
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
} as const;

/** Checks `--backend` without starting anything, so a typo fails before slow work begins. */
export function parseBackendFlag(value: string | undefined): BackendName | undefined {
  if (value === undefined) return undefined;
  try {
    return parseBackendName(value, '--backend');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Starts the engine named by --backend (or MOEVL_BACKEND, or the fastest available). With --quiet,
 * TensorFlow.js' own warnings are off too (its production mode, which changes only its logging).
 */
export async function startBackend(flags: CommonFlags): Promise<BackendReport> {
  if (flags.quiet) tf.enableProdMode();
  return initBackend({ backend: parseBackendFlag(flags.backend) });
}

/**
 * Where notes for people go (what was loaded, where results were written): always stderr, so stdout holds
 * only the result (the table, or the JSON with --json); nothing with --quiet.
 */
export function logger(flags: CommonFlags, io: IO): (text: string) => void {
  return flags.quiet ? () => {} : (text) => void io.err.write(text.endsWith('\n') ? text : text + '\n');
}
