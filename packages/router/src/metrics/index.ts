export * from './expert_choice_metrics.js';
export * from './merge_metrics.js';
export * from './routing_metrics.js';
export type { MatrixInput, VectorInput } from './input.js';
export * from './usage_heatmap.js';
