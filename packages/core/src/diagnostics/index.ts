export * from './self_check.js';
