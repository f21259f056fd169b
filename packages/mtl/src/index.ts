export * from './aes/index.js';
