export * from './classifier.js';
export * from './evaluate.js';
export * from './metrics.js';
export * from './rank_predictions.js';
