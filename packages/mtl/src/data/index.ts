export * from './coarse_labels.js';
export * from './fashion_multi_task.js';
export type * from './multi_task_data.js';
export * from './sobel.js';
