import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { IO } from './common.js';

/**
 * What the training commands (`train`, `train-limoe`) share: the `--out` folder they write, and a run that
 * Ctrl-C or SIGTERM stops between steps with a checkpoint written (exit 130, with how to resume).
 */

/** Creates `--out` (refusing one that already holds a trained model unless resuming); the model's path. */
export async function prepareTrainingOut(out: string, resume: boolean): Promise<string> {
  const modelPath = join(out, 'model.safetensors');
  if (!resume && (await stat(modelPath).catch(() => undefined)) !== undefined) {
    throw new InputError(
      `--out ${out} already holds a trained model (model.safetensors); pass --resume to continue its run, or choose another --out.`,
    );
  }
  try {
    await mkdir(out, { recursive: true });
  } catch (err) {
    throw new InputError(
      `--out: cannot create the folder ${out} (${(err as NodeJS.ErrnoException).code}); choose another.`,
    );
  }
  return modelPath;
}

/**
 * Runs `train` with a signal that Ctrl-C or SIGTERM aborts; the trainer then finishes its step, writes a
 * checkpoint and throws core's `TrainingStoppedError`, which becomes `{ stopped: 130 }` after its message.
 */
export async function runUntilStopped<T>(
  io: IO,
  log: (text: string) => void,
  train: (signal: AbortSignal) => Promise<T>,
): Promise<{ result: T } | { stopped: 130 }> {
  const controller = new AbortController();
  const stop = () => {
    log('\nstopping after the current step and writing a checkpoint…');
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return { result: await train(controller.signal) };
  } catch (err) {
    if ((err as Error).name !== 'TrainingStoppedError') throw err;
    io.err.write(`zero-shot: ${(err as Error).message}\n`);
    return { stopped: 130 };
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
