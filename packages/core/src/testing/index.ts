export * from './gradient_check.js';
export * from './leaks.js';
export * from './backends.js';
export * from './browser_imports.js';
export * from './seeded.js';
