export * from './moe_layer.js';
