import * as tf from '@tensorflow/tfjs';

/**
 * How tfjs 4.22 keeps the tensors a gradient needs: for every recorded kernel, `saveTensorsForBackwardMode`
 * clones each saved input and output through `Engine.clone`, which runs the `Identity` kernel (the whole kernel
 * dispatch) and records the clone on the tape as an op of its own. A LIMoE training step saves ~680 tensors,
 * so ~680 extra kernel launches and tape nodes that the backward pass then filters out again.
 *
 * With one gradient tape (`gradientDepth` 1, the case of every training step) a clone's tape node can never
 * matter: the clone feeds no recorded op, so it lies on no path from the variables to the loss. Here such a
 * saved tensor is made directly — a tensor sharing the data, with the backend's reference count raised, as the
 * `Identity` kernel does on these backends — and kept. Under nested tapes (higher-order gradients, where an
 * outer tape differentiates through the saved tensors) and on other backends tfjs' own method runs.
 */

const PATCHED = Symbol.for('moevl.savedTensors');
const CHEAP_BACKENDS = new Set(['wasm', 'cpu']);

interface EngineInternals {
  state: { gradientDepth: number };
  backendName: string;
  backend: { incRef(dataId: tf.DataId): void };
  keep<T extends tf.Tensor>(t: T): T;
  makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor;
  saveTensorsForBackwardMode?: ((tensors: tf.Tensor[]) => tf.Tensor[]) & { [PATCHED]?: boolean };
}

/** Installs the cheaper save on tfjs' engine (once; leaves an engine without the method alone). */
export function patchSavedTensors(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.saveTensorsForBackwardMode;
  if (typeof original !== 'function' || original[PATCHED]) return;
  const save = function (this: EngineInternals, tensors: tf.Tensor[]): tf.Tensor[] {
    if (this.state.gradientDepth !== 1 || !CHEAP_BACKENDS.has(this.backendName)) {
      return original.call(this, tensors);
    }
    return tensors.map((t) => {
      if (t.dtype === 'string' || t.dtype === 'complex64') return original.call(this, [t])[0];
      this.backend.incRef(t.dataId);
      return this.keep(this.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
    });
  };
  (save as typeof save & { [PATCHED]?: boolean })[PATCHED] = true;
  engine.saveTensorsForBackwardMode = save;
}

/** Restores tfjs' own method (for tests comparing the two). */
export function unpatchSavedTensors(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.saveTensorsForBackwardMode?.[PATCHED]) delete engine.saveTensorsForBackwardMode;
}
