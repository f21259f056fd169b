export * from './init_backend.js';
export { registerWasmKernels } from './wasm_kernels.js';
