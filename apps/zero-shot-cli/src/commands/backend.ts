import { formatBackendReport } from '@moevl/core';
import { type CommonFlags, type IO, startBackend } from './common.js';

export async function runBackendCommand(flags: CommonFlags, io: IO): Promise<number> {
  const report = await startBackend(flags);
  io.out.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatBackendReport(report) + '\n');
  return 0;
}
