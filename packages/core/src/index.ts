export * from './backend/index.js';
export * from './config/index.js';
export * from './diagnostics/index.js';
export * from './io/index.js';
export * from './layers/index.js';
export * from './ops/index.js';
export * from './train/index.js';
