import type { HfTokenizerRef, TextTokenizer } from '../tokenizer/text_tokenizer.js';

/**
 * What differs between @moevl/limoe on Node and in a browser (`#platform`, package.json `imports`, as in
 * @moevl/core): CLIP's tokenizer reads its vocabulary from a file shipped in the package, which a page
 * cannot; the project's own BPE travels whole inside the model file and loads anywhere.
 */
export interface LIMoEPlatform {
  readonly name: 'node' | 'browser';
  /** A Hugging Face tokenizer stored in a model file (`what` names the file in errors). */
  loadHfTokenizer(spec: HfTokenizerRef, what?: string): TextTokenizer;
}
