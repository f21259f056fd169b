export * from './classification_head.js';
export * from './create_head.js';
export * from './dense_head.js';
export * from './task_spec.js';
export * from './unpatchify.js';
