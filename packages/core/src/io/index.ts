export { writeFileAtomic } from './atomic_write.js';
export { bfloat16BitsToNumber, bfloat16ToFloat32, float16BitsToNumber, float16ToFloat32 } from './float16.js';
export { SafetensorsError } from './safetensors_error.js';
export { SAFETENSORS_DTYPE_BYTES } from './safetensors_dtypes.js';
export type { SafetensorsDtype } from './safetensors_dtypes.js';
export { parseSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from './safetensors_parse.js';
export type { SafetensorsContents } from './safetensors_parse.js';
export { serializeSafetensors } from './safetensors_serialize.js';
export { readSafetensors, writeSafetensors } from './safetensors_file.js';
