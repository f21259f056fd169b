/**
 * What the text side of a LIMoE model needs from a tokenizer, whichever it is: the project's own trainable
 * `BpeTokenizer`, or CLIP's BPE (`ClipTokenizer`, the OpenAI / open_clip vocabulary through Hugging Face's
 * tokenizers). Both lay a batch out the same way (`layoutBatch`: `<sot> … <eot> <pad>…`, cut CLIP-style with
 * `<eot>` kept last and the cut reported), and both serialise to JSON that a model file stores, so the file
 * alone gives back the same ids.
 */
import type { EncodedBatch } from './batch.js';
import type { EncodeBatchOptions } from './bpe_tokenizer.js';
import type { BpeTokenizerJSON } from './serialization.js';

/**
 * A Hugging Face `tokenizer.json` as a model file stores it: by the name of a tokenizer shipped in this
 * package (`clip-bpe-16e6`), checked against the sha256 of its JSON text so a model never silently reads
 * another vocabulary, or embedded whole (a tokenizer.json of the user's own). No download either way.
 */
export interface HfTokenizerRef {
  type: 'hf-tokenizer';
  version: 1;
  /** A shipped tokenizer (`shippedTokenizerNames()`); exclusive with `tokenizer`. */
  name?: string;
  /** sha256 (hex) of the shipped tokenizer.json text; required with `name`. */
  sha256?: string;
  /** The tokenizer.json object itself. */
  tokenizer?: Record<string, unknown>;
  /** Start and end tokens (CLIP: `<|startoftext|>`, `<|endoftext|>`) and the padding id (open_clip: 0). */
  sot: string;
  eot: string;
  padId: number;
  contextLength?: number;
}

/** Every tokenizer form a LIMoE model file may hold. */
export type TextTokenizerJSON = BpeTokenizerJSON | HfTokenizerRef;

export interface TextTokenizer {
  readonly vocabSize: number;
  /** Default context for `encodeBatch` (CLIP: 77), when the tokenizer has one. */
  readonly contextLength: number | undefined;
  readonly sotId: number;
  readonly eotId: number;
  readonly padId: number;
  /** Content token ids of `text`, without `<sot>`/`<eot>`. */
  encode(text: string): number[];
  /** Fixed-length rows with mask, lengths, `<eot>` index and which rows were cut (see `layoutBatch`). */
  encodeBatch(texts: readonly string[], options?: EncodeBatchOptions): EncodedBatch;
  decode(ids: Iterable<number>): string;
  /** The JSON a model file stores; `loadTextTokenizer` turns it back into a tokenizer with the same ids. */
  toJSON(): TextTokenizerJSON;
}
