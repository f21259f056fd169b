export * from './task_expert_statistics.js';
export * from './write_task_routing_analysis.js';
