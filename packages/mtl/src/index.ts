export * from './aes/index.js';
export * from './layers/index.js';
