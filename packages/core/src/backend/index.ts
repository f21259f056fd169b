export * from './init_backend.js';
export { registerWasmKernels } from './wasm_kernels.js';
export { type MatmulPath, matmulPath, useNativeMatMul } from './matmul_kernels.js';
