import { platform } from '#platform';
import { BpeTokenizer } from './bpe_tokenizer.js';
import type { HfTokenizerRef, TextTokenizer } from './text_tokenizer.js';

/**
 * A tokenizer from the JSON a model file stores (`TextTokenizer.toJSON()`, object or string): `type: 'bpe'`
 * is the project's own BPE, `type: 'hf-tokenizer'` a Hugging Face tokenizer.json (CLIP's shipped one by
 * name and sha256, or embedded). `what` names the source in errors (the model file).
 */
export function loadTextTokenizer(json: unknown, what?: string): TextTokenizer {
  const spec: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  const type = (spec as { type?: unknown } | null)?.type;
  // CLIP's tokenizer on Node (ClipTokenizer); a browser has no shipped vocabulary file to read it from.
  if (type === 'hf-tokenizer') return platform.loadHfTokenizer(spec as HfTokenizerRef, what);
  // Anything else is read as the project's BPE, whose validation names what is wrong.
  return BpeTokenizer.fromJSON(spec);
}
