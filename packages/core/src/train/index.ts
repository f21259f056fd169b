export * from './rng.js';
export * from './adamw.js';
export * from './schedule.js';
export * from './clip.js';
export * from './train_step.js';
export * from './run/index.js';
