export * from './contrastive.js';
