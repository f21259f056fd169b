/**
 * @moevl/router in a browser (the `browser` condition of the package's `exports`): everything but
 * `loadRouterPlugin`, which imports plugins by file path or package name — what a bundle cannot do (a page
 * imports its plugin and registers it). `browser.test.ts` keeps the two entries in step.
 */
export * from './assignment/index.js';
export * from './gating/index.js';
export * from './losses/index.js';
export * from './metrics/index.js';
export * from './moe/index.js';
export * from './registry/check_strategy.js';
export * from './registry/registry.js';
export * from './routers/index.js';
