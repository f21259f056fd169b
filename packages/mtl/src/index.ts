export * from './aes/index.js';
export * from './layers/index.js';
export * from './heads/index.js';
export * from './data/index.js';
export * from './losses/index.js';
export * from './analysis/index.js';
export * from './model/index.js';
export * from './train/index.js';
