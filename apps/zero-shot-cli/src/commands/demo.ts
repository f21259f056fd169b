import { formatBackendReport, runSelfCheck } from '@moevl/core';
import { UsageError } from '../errors.js';
import { type CommonFlags, type IO, startBackend } from './common.js';

export interface DemoFlags extends CommonFlags {
  steps?: string;
}

/**
 * The embedded default job: report the engine, then train a tiny transformer end to end on it. The
 * zero-shot evaluation of the shipped checkpoint replaces this once a model ships.
 */
export async function runDemoCommand(flags: DemoFlags, io: IO): Promise<number> {
  const steps = flags.steps == null ? 30 : Number(flags.steps);
  if (!Number.isInteger(steps) || steps < 1 || steps > 10_000) {
    throw new UsageError(`--steps must be an integer from 1 to 10000, got "${flags.steps}"`);
  }
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
    io.out.write(JSON.stringify({ engine: report, ...result, ok }, null, 2) + '\n');
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
