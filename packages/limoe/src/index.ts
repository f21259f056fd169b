import { registerModelFamily } from '@moevl/vision';
import { limoeFamily } from './io/limoe_family.js';

export * from './analysis/index.js';
export * from './configs/index.js';
export * from './io/index.js';
export * from './losses/index.js';
export * from './model/index.js';
export * from './tokenizer/index.js';
export * from './train/index.js';

// LIMoE model files and builtin:NAME resolve through the model-family registry.
registerModelFamily(limoeFamily);
