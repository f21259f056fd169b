import { parseArgs } from 'node:util';
import { runBackendCommand } from './commands/backend.js';
import type { IO } from './commands/common.js';
import { runDemoCommand } from './commands/demo.js';
import { UsageError } from './errors.js';

export const HELP = `zero-shot — zero-shot evaluation of mixture-of-experts vision-language models

Usage:
  zero-shot demo [--steps N] [--backend NAME] [--json] [--quiet]
      Print which engine runs and run a tiny end-to-end training of a transformer on it.
  zero-shot backend [--backend NAME] [--json]
      Print which TensorFlow.js backend runs and why the others were skipped.

Options:
  --backend NAME   tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads;
                   the MOEVL_BACKEND environment variable sets it too)
  --json           print only JSON on stdout (logs go to stderr)
  --quiet          no progress output
  -h, --help       this text
  -v, --version    the version

Exit codes: 0 ok, 1 the task failed, 2 a usage or input error.`;

const COMMANDS = ['demo', 'backend'] as const;

/** Runs the CLI and returns the exit code (the bin sets process.exitCode; tests call this directly). */
export async function main(
  argv: string[],
  io: IO = { out: process.stdout, err: process.stderr },
): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        backend: { type: 'string' },
        steps: { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
    if (values.help) {
      io.out.write(HELP + '\n');
      return 0;
    }
    if (values.version) {
      const { createRequire } = await import('node:module');
      const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
      io.out.write(pkg.version + '\n');
      return 0;
    }
    const [command, ...rest] = positionals;
    if (command == null) {
      io.err.write(HELP + '\n');
      return 2;
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" after "${command}"`);
    switch (command) {
      case 'demo':
        return await runDemoCommand(values, io);
      case 'backend':
        return await runBackendCommand(values, io);
      default:
        throw new UsageError(`unknown command "${command}"; commands: ${COMMANDS.join(', ')} (see --help)`);
    }
  } catch (err) {
    const isUsage =
      err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    io.err.write(`zero-shot: ${(err as Error).message}\n`);
    if (isUsage) io.err.write('Run "zero-shot --help" for usage.\n');
    return isUsage ? 2 : 1;
  }
}
