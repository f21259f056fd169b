export * from './assign_expert_choice.js';
export * from './assign_top_k.js';
export * from './buffer_positions.js';
export * from './capacity.js';
