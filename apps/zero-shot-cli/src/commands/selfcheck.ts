import { parseArgs } from 'node:util';
import { formatBackendReport, runSelfCheck } from '@moevl/core';
import { parseIntegerFlag } from '../flags/numbers.js';
import { toJson } from '../render/format.js';
import { COMMON_OPTIONS, type CommonFlags, type IO, startBackend } from './common.js';

export const SELFCHECK_HELP = `zero-shot selfcheck — check the engine: train a tiny transformer end to end

Usage:
  zero-shot selfcheck [--steps N] [--backend NAME] [--json] [--quiet]

Prints which backend runs, trains a tiny transformer for N steps on it, and checks that the loss falls and
no tensors leak. Needs no model files and no network.

Options:
  --steps N        training steps, 1 to 10000 (default 30)
  --backend NAME   tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads)
  --json           print only JSON on stdout (logs go to stderr)
  --quiet          no progress output
  -h, --help       this text

Exit codes: 0 the engine works, 1 the check failed, 2 a usage error.`;

export const SELFCHECK_OPTIONS = { ...COMMON_OPTIONS, steps: { type: 'string' } } as const;

export async function runSelfcheckCommand(argv: string[], io: IO): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: SELFCHECK_OPTIONS });
  return selfCheck(values, io);
}

/** The engine self-check, shared with `demo`'s fallback when no builtin model is installed. */
export async function selfCheck(flags: CommonFlags & { steps?: string }, io: IO): Promise<number> {
  const steps = parseIntegerFlag('--steps', flags.steps, { min: 1, max: 10_000 }) ?? 30;
  const report = await startBackend(flags);
  const log = flags.json ? io.err : io.out;
  if (!flags.quiet) log.write(formatBackendReport(report) + '\n\n');
  const interactive = !flags.quiet && (log as NodeJS.WriteStream).isTTY === true;
  const result = runSelfCheck({
    steps,
    onStep: (step, loss) => {
      if (flags.quiet) return;
      const line = `step ${String(step + 1).padStart(String(steps).length)}/${steps}  loss ${loss.toFixed(4)}`;
      if (interactive) log.write(`\r${line}`);
      else if (step === 0 || step + 1 === steps || (step + 1) % 10 === 0) log.write(line + '\n');
    },
  });
  if (interactive) log.write('\n');
  const ok = result.leakedTensors === 0 && result.losses[result.losses.length - 1] < result.losses[0];
  if (flags.json) {
    io.out.write(toJson({ engine: report, ...result, ok }));
  } else {
    io.out.write(
      `\n${result.parameters} parameters, ${result.msPerStep.toFixed(1)} ms per forward+backward+update step on ` +
        `${result.backend}; loss ${result.losses[0].toFixed(3)} → ${result.losses[result.losses.length - 1].toFixed(3)}; ` +
        `${result.leakedTensors} tensors leaked.\n` +
        (ok ? 'Engine OK.\n' : 'Engine check FAILED: the loss did not fall or tensors leaked.\n'),
    );
  }
  return ok ? 0 : 1;
}
