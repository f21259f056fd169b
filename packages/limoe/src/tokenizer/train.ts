/**
 * BPE training (Sennrich et al. 2016, as used for CLIP's text tower): start from characters, repeatedly
 * merge the most frequent adjacent symbol pair into a new token until the vocabulary is full.
 *
 * Pair counts are maintained incrementally: a merge only rewrites the words that contain the merged pair
 * (found through a pair → words index), subtracting their old pair counts and adding the new ones, and the
 * best pair comes from a lazy max-heap. Cost per merge is proportional to the words it touches, not to the
 * corpus, which keeps a few-thousand-token vocabulary on ~50k captions well under a second.
 */
import { assertPositiveInteger } from '@moevl/core';
import { BpeTokenizer, type BpeTokenizerOptions } from './bpe_tokenizer.js';
import { END_OF_WORD, normalizeText, pretokenize } from './normalize.js';
import { PairHeap } from './pair_heap.js';
import { DEFAULT_SPECIAL_TOKENS, type BpeTokenizerJSON } from './serialization.js';
import { MAX_VOCAB_SIZE, pairKey, wordToSymbols } from './symbols.js';

export interface TrainBpeOptions extends BpeTokenizerOptions {
  /** Upper bound on the final vocabulary, specials and base characters included. */
  vocabSize: number;
  /**
   * A pair must occur at least this often (weighted by word frequency) to be merged. Default 2: a merge
   * seen once only memorises one word. Training stops early when no pair qualifies, so small corpora give
   * vocabularies smaller than `vocabSize`.
   */
  minFrequency?: number;
  /** Characters seen fewer times are left out of the base vocabulary (they encode as `<unk>`). Default 1. */
  minCharFrequency?: number;
  /** Extra characters always in the base vocabulary, e.g. `'abcdefghijklmnopqrstuvwxyz0123456789'`. */
  alphabet?: string;
  /** Lowercase text before tokenising (CLIP does). Default true. */
  lowercase?: boolean;
  /** Default `encodeBatch` context length stored with the tokenizer. */
  contextLength?: number;
}

/** Word-frequency table: BPE only ever needs each distinct pre-token and how often it occurs. */
function countWords(corpus: Iterable<string>, lowercase: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of corpus) {
    for (const word of pretokenize(normalizeText(text, lowercase)))
      counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

function baseAlphabet(words: Map<string, number>, minCharFrequency: number, extra: string): string[] {
  const charCounts = new Map<string, number>();
  for (const [word, count] of words) {
    for (const ch of word) charCounts.set(ch, (charCounts.get(ch) ?? 0) + count);
  }
  const chars = new Set([...charCounts].filter(([, c]) => c >= minCharFrequency).map(([ch]) => ch));
  for (const ch of extra) chars.add(ch);
  // Code-unit order: deterministic and locale-independent.
  return [...chars].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkOptions(o: TrainBpeOptions): void {
  assertPositiveInteger('trainBpe: vocabSize', o.vocabSize);
  for (const key of ['minFrequency', 'minCharFrequency'] as const) {
    const v = o[key];
    if (v !== undefined) assertPositiveInteger(`trainBpe: ${key}`, v);
  }
}

/** Learns a BPE vocabulary from a caption corpus. Deterministic: same corpus and options → same JSON. */
export function trainBpe(corpus: Iterable<string>, options: TrainBpeOptions): BpeTokenizer {
  checkOptions(options);
  const lowercase = options.lowercase ?? true;
  const minFrequency = options.minFrequency ?? 2;
  const extra = normalizeText(options.alphabet ?? '', lowercase).replace(/\s/gu, '');
  const wordCounts = countWords(corpus, lowercase);
  const alphabet = baseAlphabet(wordCounts, options.minCharFrequency ?? 1, extra);

  const specials = { ...DEFAULT_SPECIAL_TOKENS };
  const tokens = [specials.pad, specials.sot, specials.eot, specials.unk, END_OF_WORD];
  const firstMergeable = tokens.length;
  tokens.push(...alphabet, ...alphabet.map((ch) => ch + END_OF_WORD));
  if (tokens.length > options.vocabSize) {
    throw new Error(
      `trainBpe: vocabSize ${options.vocabSize} is smaller than the base vocabulary (${firstMergeable} ` +
        `reserved + 2 × ${alphabet.length} characters = ${tokens.length}).`,
    );
  }
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const table = { ids, unkId: ids.get(specials.unk) as number, endOfWordId: ids.get(END_OF_WORD) as number };

  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(wordToSymbols(word, table));
    freqs.push(count);
  }

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const changed = new Set<number>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const symbols = words[w];
    const delta = sign * freqs[w];
    for (let i = 0; i < symbols.length - 1; i++) {
      const left = symbols[i];
      const right = symbols[i + 1];
      // <unk> and a standalone </w> never merge: they stand for characters the vocabulary does not have.
      if (left < firstMergeable || right < firstMergeable) continue;
      const key = pairKey(left, right);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
      changed.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (set === undefined) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };

  const heap = new PairHeap();
  const pushChanged = () => {
    for (const key of changed) {
      const count = pairCounts.get(key) ?? 0;
      if (count <= 0) {
        pairCounts.delete(key);
        continue;
      }
      const left = Math.floor(key / MAX_VOCAB_SIZE);
      const right = key - left * MAX_VOCAB_SIZE;
      heap.push({ key, left, right, count, leftToken: tokens[left], rightToken: tokens[right] });
    }
    changed.clear();
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  pushChanged();

  const merges: [string, string][] = [];
  while (tokens.length < options.vocabSize) {
    const best = heap.pop();
    if (best === undefined) break;
    if (pairCounts.get(best.key) !== best.count) continue; // stale entry
    if (best.count < minFrequency) break;
    const mergedToken = best.leftToken + best.rightToken;
    // Two different pairs can spell the same string ("a"+"bc", "ab"+"c"); reuse the id so vocab stays unique.
    let merged = ids.get(mergedToken);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(mergedToken);
      ids.set(mergedToken, merged);
    }
    merges.push([best.leftToken, best.rightToken]);
    for (const w of pairWords.get(best.key) ?? []) {
      const next = mergeInWord(words[w], best.left, best.right, merged);
      if (next === null) continue; // the index is lazy: this word lost the pair in an earlier merge
      addPairs(w, -1);
      words[w] = next;
      addPairs(w, 1);
    }
    pairWords.delete(best.key);
    pairCounts.delete(best.key);
    changed.delete(best.key);
    pushChanged();
  }

  const json: BpeTokenizerJSON = {
    type: 'bpe',
    version: 1,
    lowercase,
    vocab: tokens,
    merges,
    specialTokens: specials,
  };
  if (options.contextLength !== undefined) json.contextLength = options.contextLength;
  return new BpeTokenizer(json, { cacheSize: options.cacheSize });
}

/** Merges every (left, right) occurrence left to right; null when the word has none. */
function mergeInWord(symbols: number[], left: number, right: number, merged: number): number[] | null {
  let out: number[] | null = null;
  for (let i = 0; i < symbols.length; i++) {
    if (i < symbols.length - 1 && symbols[i] === left && symbols[i + 1] === right) {
      out ??= symbols.slice(0, i);
      out.push(merged);
      i++;
    } else if (out !== null) {
      out.push(symbols[i]);
    }
  }
  return out;
}
