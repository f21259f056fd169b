export * from './checkpoint.js';
export * from './config.js';
export * from './expert_usage_ema.js';
export * from './extract_single_task.js';
export * from './task_moe_block.js';
export * from './task_moe_vit.js';
export * from './model_size.js';
