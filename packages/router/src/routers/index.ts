export * from './aux_losses.js';
export * from './builtins.js';
export * from './contract.js';
export * from './gated_router.js';
export * from './option_checks.js';
export * from './top_k.js';
