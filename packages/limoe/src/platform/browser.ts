import type { LIMoEPlatform } from './platform.js';

/** @moevl/limoe in a browser (the `browser` target of `#platform`, which bundlers pick). */
export const platform: LIMoEPlatform = {
  name: 'browser',
  loadHfTokenizer(spec, what) {
    throw new Error(
      `${what ?? 'model file'}: its tokenizer is a Hugging Face tokenizer.json (${spec.name ?? 'embedded'}), ` +
        "which @moevl/limoe reads only on Node; in a browser, models with the project's BPE tokenizer load.",
    );
  },
};
