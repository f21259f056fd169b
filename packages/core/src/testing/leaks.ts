import * as tf from '@tensorflow/tfjs';

type Result = tf.TensorContainer | void;

function disposeResult(r: Result): void {
  if (r != null) tf.dispose(r as tf.TensorContainer);
}

/**
 * Counts the tensors `fn` leaves behind after one warm-up call (which may create lazily built weights or
 * cached constants). Tensors `fn` returns are disposed by the helper, as tfjs-layers' own check does.
 */
export async function countLeakedTensors(fn: () => Result | Promise<Result>): Promise<number> {
  disposeResult(await fn());
  const before = tf.memory().numTensors;
  disposeResult(await fn());
  return tf.memory().numTensors - before;
}

/** Throws when `fn` leaves tensors behind after a warm-up call. */
export async function expectNoLeakedTensors(fn: () => Result | Promise<Result>, expected = 0): Promise<void> {
  const leaked = await countLeakedTensors(fn);
  if (leaked !== expected) {
    throw new Error(`expected ${expected} new tensor(s) after one warm-up call, found ${leaked}`);
  }
}
