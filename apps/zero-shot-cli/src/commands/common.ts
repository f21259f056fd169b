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

/** Starts the engine named by --backend (or MOEVL_BACKEND, or the fastest available). */
export async function startBackend(flags: CommonFlags): Promise<BackendReport> {
  let backend: BackendName | undefined;
  if (flags.backend != null) {
    try {
      backend = parseBackendName(flags.backend, '--backend');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return initBackend({ backend });
}
