export * from './analysis/index.js';
export * from './io/index.js';
export * from './losses/index.js';
export * from './model/index.js';
export * from './tokenizer/index.js';
export * from './train/index.js';
