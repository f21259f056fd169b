export * from './check_strategy.js';
export * from './load_plugin.js';
export * from './registry.js';
