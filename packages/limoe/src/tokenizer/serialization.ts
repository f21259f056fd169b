/**
 * The tokenizer's JSON form and its validation. This object is stored inside LIMoE checkpoints (as
 * safetensors metadata), so it is plain JSON, compact (vocab + merges, nothing derived) and validated on
 * load: a checkpoint whose tokenizer does not match its embedding table must fail loudly, not silently
 * produce different ids.
 */
import { describeValue, integerRule, isIntegerIn } from '@moevl/core';
import { END_OF_WORD } from './normalize.js';
import { MAX_VOCAB_SIZE } from './symbols.js';

/** Token strings of the four control tokens. `<pad>` must be id 0 so zero-filled id buffers are padding. */
export interface SpecialTokens {
  pad: string;
  sot: string;
  eot: string;
  unk: string;
}

export const DEFAULT_SPECIAL_TOKENS: Readonly<SpecialTokens> = Object.freeze({
  pad: '<pad>',
  sot: '<sot>',
  eot: '<eot>',
  unk: '<unk>',
});

export const BPE_JSON_VERSION = 1;

/**
 * Serialised tokenizer. `vocab[i]` is the token with id `i`; `merges` are in rank order (earlier = applied
 * first); `</w>` must be in the vocabulary (it marks the end of a word whose last character is unknown).
 */
export interface BpeTokenizerJSON {
  type: 'bpe';
  version: 1;
  lowercase: boolean;
  vocab: string[];
  merges: [string, string][];
  specialTokens: SpecialTokens;
  /** Default context length for `encodeBatch` (the text tower's position-embedding length). */
  contextLength?: number;
}

function fail(message: string): never {
  throw new Error(`BpeTokenizer.fromJSON: ${message}`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function validateVocab(vocab: unknown): string[] {
  if (!Array.isArray(vocab)) fail('vocab must be an array of strings.');
  if (vocab.length > MAX_VOCAB_SIZE) fail(`vocab has ${vocab.length} entries, more than ${MAX_VOCAB_SIZE}.`);
  const seen = new Map<string, number>();
  vocab.forEach((token, i) => {
    if (typeof token !== 'string' || token.length === 0) fail(`vocab[${i}] must be a non-empty string.`);
    const first = seen.get(token);
    if (first !== undefined) fail(`duplicate vocab entry ${JSON.stringify(token)} at ids ${first} and ${i}.`);
    seen.set(token, i);
  });
  return [...(vocab as string[])];
}

function validateSpecials(specials: unknown, ids: ReadonlySet<string>): SpecialTokens {
  if (!isRecord(specials)) fail('specialTokens must be an object {pad, sot, eot, unk}.');
  const out = {} as SpecialTokens;
  for (const role of ['pad', 'sot', 'eot', 'unk'] as const) {
    const token = specials[role];
    if (typeof token !== 'string') fail(`specialTokens.${role} must be a string.`);
    if (!ids.has(token)) fail(`special token ${role}=${JSON.stringify(token)} is not in the vocab.`);
    out[role] = token;
  }
  if (new Set(Object.values(out)).size !== 4) fail('special tokens must be four distinct tokens.');
  if (Object.values(out).includes(END_OF_WORD)) {
    fail(`${END_OF_WORD} is the end-of-word marker and cannot be a special token.`);
  }
  return out;
}

function validateMerges(merges: unknown, ids: ReadonlySet<string>, reserved: ReadonlySet<string>) {
  if (!Array.isArray(merges)) fail('merges must be an array of [left, right] string pairs.');
  const seen = new Set<string>();
  return merges.map((merge, i): [string, string] => {
    if (
      !Array.isArray(merge) ||
      merge.length !== 2 ||
      typeof merge[0] !== 'string' ||
      typeof merge[1] !== 'string'
    ) {
      fail(`merges[${i}] must be a [left, right] pair of strings.`);
    }
    const [left, right] = merge as [string, string];
    for (const part of [left, right]) {
      if (!ids.has(part)) fail(`merges[${i}] references unknown token ${JSON.stringify(part)}.`);
      if (reserved.has(part)) fail(`merges[${i}] references the reserved token ${JSON.stringify(part)}.`);
    }
    if (!ids.has(left + right))
      fail(`merges[${i}] produces ${JSON.stringify(left + right)}, which is not in the vocab.`);
    const key = JSON.stringify(merge);
    if (seen.has(key)) fail(`merges[${i}] ${key} is a duplicate.`);
    seen.add(key);
    return [left, right];
  });
}

/**
 * Checks a parsed (or still-stringified) tokenizer JSON and returns a defensive copy with exactly the known
 * fields. Errors name the offending field or token so a corrupt checkpoint is easy to diagnose.
 */
export function validateBpeJSON(input: unknown): BpeTokenizerJSON {
  const json: unknown = typeof input === 'string' ? JSON.parse(input) : input;
  if (!isRecord(json)) fail('expected an object.');
  if (json.type !== 'bpe') fail(`unsupported tokenizer type ${JSON.stringify(json.type)}, expected "bpe".`);
  if (json.version !== BPE_JSON_VERSION) {
    fail(`unsupported version ${JSON.stringify(json.version)}, expected ${BPE_JSON_VERSION}.`);
  }
  if (typeof json.lowercase !== 'boolean') fail('lowercase must be a boolean.');
  const vocab = validateVocab(json.vocab);
  const ids = new Set(vocab);
  const specialTokens = validateSpecials(json.specialTokens, ids);
  if (!ids.has(END_OF_WORD)) fail(`the vocab must contain the end-of-word token ${END_OF_WORD}.`);
  if (vocab[0] !== specialTokens.pad)
    fail(`the pad token ${JSON.stringify(specialTokens.pad)} must have id 0.`);
  const reserved = new Set([...Object.values(specialTokens), END_OF_WORD]);
  const merges = validateMerges(json.merges, ids, reserved);
  const out: BpeTokenizerJSON = {
    type: 'bpe',
    version: 1,
    lowercase: json.lowercase,
    vocab,
    merges,
    specialTokens,
  };
  if (json.contextLength !== undefined) {
    const L = json.contextLength;
    const range = { min: 2, note: 'room for <sot> and <eot>' };
    if (!isIntegerIn(L, range)) fail(`contextLength must be ${integerRule(range)}, got ${describeValue(L)}.`);
    out.contextLength = L;
  }
  return out;
}
