import { createRequire } from 'node:module';
import { COMMANDS } from './commands/index.js';
import type { IO } from './commands/common.js';
import { UsageError, classifyError } from './errors.js';
import { overviewHelp } from './help.js';

function version(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** `-h`/`--help` anywhere among a command's arguments (before a `--` that ends the options). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
}

/**
 * `--limit -5` → `--limit=-5`: node's parseArgs reads a value starting with a dash as a missing value and
 * says so in three lines ("argument is ambiguous …"); joined, the flag's own check gives the usual
 * one-sentence message ("--limit must be an integer ≥ 1, got "-5"."). Only negative numbers are joined.
 */
export function joinNegativeNumbers(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (a === '--') return [...out, ...args.slice(i)];
    if (/^--[a-z][\w-]*$/.test(a) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Runs the CLI and returns the exit code (the bin sets process.exitCode; tests call this directly).
 * Every failure becomes one message on stderr: exit 2 for usage and input mistakes, 1 for a task that
 * failed. A stack trace is printed only with ZERO_SHOT_DEBUG=1, since for users it is noise.
 */
export async function main(
  argv: string[],
  io: IO = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined) {
      io.err.write(overviewHelp() + '\n');
      return 2;
    }
    if (first === '-h' || first === '--help') {
      io.out.write(overviewHelp() + '\n');
      return 0;
    }
    if (first === '-v' || first === '--version') {
      io.out.write(version() + '\n');
      return 0;
    }
    if (first === 'help') {
      const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
      if (rest[0] !== undefined && topic === undefined) throw unknownCommand(rest[0]);
      io.out.write((topic?.help ?? overviewHelp()) + '\n');
      return 0;
    }
    if (first.startsWith('-')) {
      throw new UsageError(
        `expected a command before "${first}"; commands: ${Object.keys(COMMANDS).join(', ')}.`,
      );
    }
    const command = COMMANDS[first];
    if (command === undefined) throw unknownCommand(first);
    if (wantsHelp(rest)) {
      io.out.write(command.help + '\n');
      return 0;
    }
    return await command.run(joinNegativeNumbers(rest), io);
  } catch (err) {
    const { exitCode, message, showHelpHint } = classifyError(err);
    io.err.write(`zero-shot: ${message}\n`);
    if (showHelpHint) {
      const topic = first !== undefined && COMMANDS[first] !== undefined ? `${first} --help` : '--help';
      io.err.write(`Run "zero-shot ${topic}" for usage.\n`);
    }
    if (process.env.ZERO_SHOT_DEBUG === '1' && err instanceof Error && err.stack)
      io.err.write(err.stack + '\n');
    return exitCode;
  }
}

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (see --help).`,
  );
}
