import * as tf from '@tensorflow/tfjs';
import { platform } from '#platform';

/**
 * Resource sanity before allocation: a model config (from a file, a flag, a user) is sized before any
 * tensor exists. A config of `dim 1e6, depth 1000` used to allocate for 50 s, reach 4.4 GB and die with
 * `Aborted()`; now it is one sentence with the estimate.
 */
export class ModelTooLargeError extends Error {
  override readonly name = 'ModelTooLargeError';
  constructor(
    readonly bytes: number,
    readonly limit: number,
    message: string,
  ) {
    super(message);
  }
}

/** The wasm backend's tensors live in one 32-bit heap: at most 4 GiB, whatever the machine has. */
const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

/** Bytes the current backend can hold: the machine's memory, capped by the wasm heap on wasm. */
export function memoryLimitBytes(): number {
  // A browser may not say (Firefox, Safari): then only the engine's own limit applies.
  const machine = platform.totalMemory() ?? Infinity;
  let backend = '';
  try {
    backend = tf.getBackend() ?? '';
  } catch {
    // no backend yet: size against the machine alone
  }
  return backend === 'wasm' ? Math.min(machine, WASM_HEAP_LIMIT) : machine;
}

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(b < 1024 ** 3 ? 2 : 1)} GiB`;

/**
 * Throws `ModelTooLargeError` when `parameters` float32 weights plus `activationBytes` would not fit in
 * `limitBytes` (default `memoryLimitBytes()`). `what` names the model and where its config came from.
 */
export function assertModelFits(
  what: string,
  parameters: number,
  activationBytes = 0,
  limitBytes = memoryLimitBytes(),
): void {
  const bytes = parameters * 4 + activationBytes;
  if (!Number.isFinite(bytes) || bytes > limitBytes) {
    const params =
      parameters >= 1e9 ? `${(parameters / 1e9).toFixed(1)}B` : `${(parameters / 1e6).toFixed(1)}M`;
    throw new ModelTooLargeError(
      bytes,
      limitBytes,
      `${what} needs about ${gib(bytes)} (${params} parameters${activationBytes > 0 ? ' plus activations' : ''}), ` +
        `more than the ${gib(limitBytes)} this machine and engine can hold; check its config (dim, depth, experts).`,
    );
  }
}
