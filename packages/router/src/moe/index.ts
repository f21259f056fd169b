export * from './moe_layer.js';
export * from './check_routing.js';
