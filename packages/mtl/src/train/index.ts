export * from './evaluate_multi_task.js';
export * from './multi_task_forward.js';
export * from './task_losses.js';
export * from './train_multi_task.js';
export * from './mtl_variants.js';
