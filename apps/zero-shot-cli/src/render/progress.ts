import { Progress } from '@moevl/core';

export interface PhaseProgressEvent {
  phase: string;
  done: number;
  total: number;
}

/**
 * Progress of a multi-phase task (building the classifier, embedding images) on stderr: a redrawn bar on
 * a terminal, a line every 10% otherwise (so logs and a parent process still see the run advance), and
 * nothing with `--quiet`. stdout is never touched, so `--json` output stays pure.
 */
export function phaseProgress(
  stream: NodeJS.WritableStream,
  quiet: boolean,
): { update(e: PhaseProgressEvent): void; finish(): void } {
  let current: { phase: string; bar: Progress } | undefined;
  const finish = () => {
    current?.bar.finish();
    current = undefined;
  };
  return {
    update(e) {
      if (quiet) return;
      if (current?.phase !== e.phase) {
        finish();
        current = { phase: e.phase, bar: new Progress({ total: e.total, label: e.phase, stream }) };
      }
      current.bar.update(e.done);
    },
    finish,
  };
}
