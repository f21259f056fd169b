export * from './assignment/index.js';
export * from './gating/index.js';
export * from './losses/index.js';
export * from './metrics/index.js';
export * from './moe/index.js';
export * from './registry/index.js';
export * from './routers/index.js';
