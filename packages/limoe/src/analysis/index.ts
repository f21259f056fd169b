export * from './routing_analysis.js';
