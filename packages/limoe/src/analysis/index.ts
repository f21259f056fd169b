export * from './routing_analysis.js';
export * from './training_figures.js';
export * from './token_routing.js';
