export * from './config.js';
export * from './limoe_model.js';
export * from './pooling.js';
export * from './text_stem.js';
