export * from './batch_order.js';
export * from './checkpoint.js';
export * from './jsonl_log.js';
export * from './progress.js';
export * from './run_training.js';
export * from './run_identity.js';
export * from './curves_svg.js';
