export * from './encoder_io.js';
export * from './moe_placement.js';
export * from './patch_embedding.js';
export * from './position_embedding.js';
export * from './presets.js';
export * from './resize_matrix.js';
export * from './vision_transformer.js';
export * from './vit_size.js';
