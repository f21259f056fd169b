export * from './routing_analysis.js';
export * from './token_routing.js';
