import { parseArgs } from 'node:util';
import { formatBackendReport } from '@moevl/core';
import { toJson } from '../render/format.js';
import { type IO, startBackend } from './common.js';

export const BACKEND_HELP = `zero-shot backend — print which TensorFlow.js backend runs and why the others were skipped

Usage:
  zero-shot backend [--backend NAME] [--json]

Options:
  --backend NAME   tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads;
                   the MOEVL_BACKEND environment variable sets it too)
  --json           print the report as JSON
  -h, --help       this text

Exit codes: 0 the backend started, 1 a forced backend could not start, 2 a usage error.`;

export async function runBackendCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { backend: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const report = await startBackend(values);
  io.out.write(values.json ? toJson(report) : formatBackendReport(report) + '\n');
  return 0;
}
