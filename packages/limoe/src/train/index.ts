export * from './captions.js';
export * from './pair_data.js';
export * from './train_limoe.js';
export * from './variants.js';
