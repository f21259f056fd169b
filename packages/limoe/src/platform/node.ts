import { ClipTokenizer } from '../tokenizer/clip_tokenizer.js';
import type { LIMoEPlatform } from './platform.js';

/** @moevl/limoe on Node.js (the `default` target of `#platform`). */
export const platform: LIMoEPlatform = {
  name: 'node',
  loadHfTokenizer: (spec, what) => ClipTokenizer.fromJSON(spec, what),
};
