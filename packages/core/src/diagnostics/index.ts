export * from './self_check.js';
export * from './suggest.js';
