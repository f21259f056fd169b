export * from './clip/index.js';
export * from './data/index.js';
export * from './eval/index.js';
export * from './model/image_text_model.js';
export * from './models/index.js';
export * from './preprocess/index.js';
export * from './zeroshot/index.js';
