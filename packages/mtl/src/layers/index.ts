export * from './moe_attention.js';
