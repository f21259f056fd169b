/**
 * A small CLIP-style BPE tokenizer for LIMoE's text side: lowercase, pre-tokenise into words, split each word
 * into characters with `</w>` on the last, then apply learned merges in rank order.
 *
 * Unknown characters: the base vocabulary is the corpus's character set (each character alone and with
 * `</w>`), not CLIP's 256 bytes. At the 1–4k vocabularies LIMoE trains with, 512 byte symbols would eat
 * half the vocabulary, while a caption corpus uses a few dozen characters. A character outside the
 * vocabulary encodes as `<unk>` (and decodes as the text "<unk>"); the rest of its word is still split and
 * merged normally, and the word boundary is kept.
 */
import { layoutBatch, type EncodedBatch } from './batch.js';
import { END_OF_WORD, canonicalText, normalizeText, pretokenize } from './normalize.js';
import { validateBpeJSON, type BpeTokenizerJSON, type SpecialTokens } from './serialization.js';
import { pairKey, wordToSymbols, type SymbolTable } from './symbols.js';
import { encodedBatchToTensors, type TokenTensors } from './tensors.js';
import type { TextTokenizer } from './text_tokenizer.js';
import { LruCache } from './word_cache.js';

export interface BpeTokenizerOptions {
  /** Max distinct words memoised (word → ids); 0 disables the cache. Default 10 000. */
  cacheSize?: number;
}

export interface EncodeBatchOptions {
  /** Row length incl. `<sot>`/`<eot>`; defaults to the tokenizer's `contextLength`. */
  contextLength?: number;
}

export class BpeTokenizer implements TextTokenizer {
  readonly lowercase: boolean;
  readonly contextLength: number | undefined;
  readonly specialTokens: Readonly<SpecialTokens>;
  readonly padId: number;
  readonly sotId: number;
  readonly eotId: number;
  readonly unkId: number;
  readonly endOfWordId: number;
  private readonly vocab: readonly string[];
  private readonly merges: readonly (readonly [string, string])[];
  private readonly table: SymbolTable;
  /** pairKey(left, right) → merge rank. */
  private readonly ranks = new Map<number, number>();
  /** merge rank → ids of its left part, right part and merged token. */
  private readonly mergeLeft: Int32Array;
  private readonly mergeRight: Int32Array;
  private readonly mergedIds: Int32Array;
  private readonly cache: LruCache<string, readonly number[]>;

  /** Builds from the JSON form; the JSON is validated, so a bad spec throws rather than mis-encodes. */
  constructor(spec: BpeTokenizerJSON, options: BpeTokenizerOptions = {}) {
    const json = validateBpeJSON(spec);
    this.lowercase = json.lowercase;
    this.contextLength = json.contextLength;
    this.specialTokens = Object.freeze({ ...json.specialTokens });
    this.vocab = Object.freeze(json.vocab);
    this.merges = Object.freeze(json.merges.map((m) => Object.freeze(m)));
    const ids = new Map(json.vocab.map((token, i) => [token, i]));
    const idOf = (token: string) => ids.get(token) as number;
    this.padId = idOf(json.specialTokens.pad);
    this.sotId = idOf(json.specialTokens.sot);
    this.eotId = idOf(json.specialTokens.eot);
    this.unkId = idOf(json.specialTokens.unk);
    this.endOfWordId = idOf(END_OF_WORD);
    this.table = { ids, unkId: this.unkId, endOfWordId: this.endOfWordId };
    this.mergeLeft = new Int32Array(json.merges.length);
    this.mergeRight = new Int32Array(json.merges.length);
    this.mergedIds = new Int32Array(json.merges.length);
    json.merges.forEach(([left, right], rank) => {
      this.mergeLeft[rank] = idOf(left);
      this.mergeRight[rank] = idOf(right);
      this.mergedIds[rank] = idOf(left + right);
      // A pair listed twice is rejected by validation, so every rank is reachable.
      this.ranks.set(pairKey(this.mergeLeft[rank], this.mergeRight[rank]), rank);
    });
    this.cache = new LruCache(options.cacheSize ?? 10_000);
  }

  /** Validates and loads a tokenizer saved by `toJSON` (object or JSON string, e.g. safetensors metadata). */
  static fromJSON(json: unknown, options: BpeTokenizerOptions = {}): BpeTokenizer {
    // The constructor validates; only the string form needs parsing first.
    return new BpeTokenizer(
      (typeof json === 'string' ? JSON.parse(json) : json) as BpeTokenizerJSON,
      options,
    );
  }

  /** Compact JSON-only form: vocab and merges in rank order; everything else is derived on load. */
  toJSON(): BpeTokenizerJSON {
    const json: BpeTokenizerJSON = {
      type: 'bpe',
      version: 1,
      lowercase: this.lowercase,
      vocab: [...this.vocab],
      merges: this.merges.map(([l, r]): [string, string] => [l, r]),
      specialTokens: { ...this.specialTokens },
    };
    if (this.contextLength !== undefined) json.contextLength = this.contextLength;
    return json;
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  get numMerges(): number {
    return this.merges.length;
  }

  /** Token string of an id (throws on out-of-range ids). */
  token(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.length) {
      throw new Error(`BpeTokenizer: id ${id} is outside the vocabulary [0, ${this.vocab.length}).`);
    }
    return this.vocab[id];
  }

  /** Id of a token string, or undefined. */
  id(token: string): number | undefined {
    return this.table.ids.get(token);
  }

  /** The text `decode(encode(text))` reproduces: normalised pre-tokens joined by single spaces. */
  normalize(text: string): string {
    return canonicalText(text, this.lowercase);
  }

  /** Content token ids of `text`, without `<sot>`/`<eot>` (see `encodeBatch` for model inputs). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const word of pretokenize(normalizeText(text, this.lowercase))) {
      for (const id of this.encodeWord(word)) out.push(id);
    }
    return out;
  }

  /** Token strings of `text` (debugging aid: shows how a caption was split). */
  tokenize(text: string): string[] {
    return this.encode(text).map((id) => this.vocab[id]);
  }

  /**
   * Ids → text. `</w>` becomes a space, `<pad>`/`<sot>`/`<eot>` are dropped, `<unk>` is written as its token
   * string so unknown characters stay visible.
   */
  decode(ids: Iterable<number>): string {
    let text = '';
    for (const id of ids) {
      const token = this.token(id);
      if (id === this.padId || id === this.sotId || id === this.eotId) continue;
      if (id === this.endOfWordId) text += ' ';
      else if (id !== this.unkId && token.endsWith(END_OF_WORD))
        text += token.slice(0, -END_OF_WORD.length) + ' ';
      else text += token;
    }
    return text.trimEnd();
  }

  /**
   * Fixed-length model inputs: each row `<sot> tokens… <eot> <pad>…`, truncated CLIP-style with `<eot>` kept
   * in the last position, plus the attention mask, lengths and the `<eot>` pooling index per row.
   */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): EncodedBatch {
    const contextLength = options.contextLength ?? this.contextLength;
    if (contextLength === undefined) {
      throw new Error('BpeTokenizer.encodeBatch: no contextLength given and the tokenizer has no default.');
    }
    return layoutBatch(
      texts.map((t) => this.encode(t)),
      contextLength,
      { sot: this.sotId, eot: this.eotId, pad: this.padId },
    );
  }

  /** `encodeBatch` as tf tensors (int32 ids `[N, L]`, float32 mask `[N, L]`, int32 eotIndex `[N]`). */
  toTensors(texts: readonly string[], options: EncodeBatchOptions = {}): TokenTensors {
    return encodedBatchToTensors(this.encodeBatch(texts, options));
  }

  /** Drops memoised words (e.g. to free memory after encoding a large corpus). */
  clearCache(): void {
    this.cache.clear();
  }

  /**
   * One pre-token → ids, memoised. Standard BPE application: repeatedly merge the adjacent pair with the
   * lowest merge rank (all its occurrences, left to right) until no learned pair remains — the same order
   * in which training created the merges, so a training word encodes to its training segmentation.
   */
  private encodeWord(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    let symbols = wordToSymbols(word, this.table);
    while (symbols.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const rank = this.ranks.get(pairKey(symbols[i], symbols[i + 1]));
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Infinity) break;
      symbols = this.mergeAll(symbols, bestRank);
    }
    this.cache.set(word, symbols);
    return symbols;
  }

  private mergeAll(symbols: number[], rank: number): number[] {
    const leftId = this.mergeLeft[rank];
    const rightId = this.mergeRight[rank];
    const merged = this.mergedIds[rank];
    const out: number[] = [];
    for (let i = 0; i < symbols.length;) {
      if (i < symbols.length - 1 && symbols[i] === leftId && symbols[i + 1] === rightId) {
        out.push(merged);
        i += 2;
      } else {
        out.push(symbols[i++]);
      }
    }
    return out;
  }
}
