import { clipFamily } from './clip/clip_family.js';
import { registerModelFamily } from './model/model_family.js';

export * from './clip/index.js';
export * from './data/index.js';
export * from './eval/index.js';
export * from './model/image_text_model.js';
export * from './model/model_family.js';
export * from './models/index.js';
export * from './preprocess/index.js';
export * from './zeroshot/index.js';

// The built-in catch-all model family, so `--model` resolves CLIP folders and hub ids.
registerModelFamily(clipFamily);
