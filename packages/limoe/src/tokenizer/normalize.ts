/**
 * Text normalisation and pre-tokenisation shared by training and encoding. BPE merges never cross a
 * pre-token boundary, so this file decides what a "word" is for the whole tokenizer; training and encoding
 * MUST use the same functions or the learned merges would not apply at encode time.
 */

/**
 * End-of-word suffix carried by the last symbol of every pre-token, as in CLIP's BPE: `cat` is split as
 * `c a t</w>`. It lets the vocabulary tell a word-final `s</w>` (plurals) from a word-internal `s`, and it
 * is what `decode` turns back into a space.
 */
export const END_OF_WORD = '</w>';

/**
 * CLIP's pre-tokenisation regex in spirit: English contractions, runs of letters (with combining marks),
 * runs of digits, and every other non-space character on its own. Unlike CLIP, a contraction only matches
 * when no letter follows, so `'start` is not split as `'s` + `tart`. Special-token strings in the text are
 * NOT recognised: a caption containing "<eot>" is encoded as ordinary punctuation and letters, so user text
 * can never inject control tokens.
 */
const PRETOKEN = /'(?:s|t|re|ve|m|ll|d)(?!\p{L})|[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]/giu;

/** Typographic apostrophes folded to `'` so "it’s" and "it's" tokenise alike. */
const APOSTROPHES = /[\u2018\u2019\u02bc]/gu;
/** Control and invisible format characters (zero-width spaces, BOMs) carry no meaning in a caption. */
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;

/**
 * NFC, folded apostrophes, optional lowercasing, whitespace collapsed to single spaces, invisible
 * characters dropped. NFC first so "é" typed as `e` + combining accent and as one code point are the same
 * character of the vocabulary.
 */
export function normalizeText(text: string, lowercase = true): string {
  let t = text.normalize('NFC').replace(APOSTROPHES, "'");
  if (lowercase) t = t.toLowerCase();
  return t.replace(/\s+/gu, ' ').replace(INVISIBLE, '').trim();
}

/** Splits normalised text into pre-tokens (the units BPE works inside). Whitespace only separates. */
export function pretokenize(normalized: string): string[] {
  return normalized.match(PRETOKEN) ?? [];
}

/**
 * The canonical text a tokenizer can reproduce: pre-tokens joined by single spaces. `decode(encode(t))`
 * equals this (when every character is in the vocabulary), e.g. `"A cat, sleeping."` → `"a cat , sleeping ."`
 * — like CLIP, word-end markers cannot tell "cat," from "cat ,".
 */
export function canonicalText(text: string, lowercase = true): string {
  return pretokenize(normalizeText(text, lowercase)).join(' ');
}
