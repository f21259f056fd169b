export * from './classifier.js';
export * from './evaluate.js';
export * from './metrics.js';
