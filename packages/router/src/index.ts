export * from './assignment/index.js';
export * from './losses/index.js';
export * from './metrics/index.js';
