export * from './limoe_checkpoint.js';
export { parseLIMoE } from './limoe_file.js';
export * from './limoe_image_text_model.js';
export * from './builtin.js';
export { BUILTIN_MODEL_CATALOG, type BuiltinModelEntry } from './builtin_catalog.js';
export * from './limoe_family.js';
