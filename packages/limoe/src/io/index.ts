export * from './limoe_checkpoint.js';
export * from './limoe_image_text_model.js';
export * from './builtin.js';
export * from './limoe_family.js';
