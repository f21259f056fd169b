/**
 * @moevl/core in a browser (the `browser` condition of the package's `exports`): everything that needs no
 * file system — backends, kernels, ops, layers, optimisers, safetensors and model files from bytes. What
 * reads or writes files (safetensors and model files by path, atomic writes, locks, digests, training runs
 * with checkpoints and logs) is only in the Node entry. `browser.test.ts` keeps the two in step.
 */
export * from './backend/index.js';
export * from './config/index.js';
export * from './diagnostics/index.js';
export {
  bfloat16BitsToNumber,
  bfloat16ToFloat32,
  float16BitsToNumber,
  float16ToFloat32,
} from './io/float16.js';
export { SafetensorsError } from './io/safetensors_error.js';
export { SAFETENSORS_DTYPE_BYTES } from './io/safetensors_dtypes.js';
export type { SafetensorsDtype } from './io/safetensors_dtypes.js';
export { parseSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from './io/safetensors_parse.js';
export type { SafetensorsContents } from './io/safetensors_parse.js';
export { serializeSafetensors } from './io/safetensors_serialize.js';
export * from './io/model_file_parse.js';
export * from './layers/index.js';
export * from './ops/index.js';
export * from './train/rng.js';
export * from './train/adamw.js';
export * from './train/schedule.js';
export * from './train/clip.js';
export * from './train/train_step.js';
export * from './train/run/batch_order.js';
