/**
 * Word → initial symbol ids, and the pair key both training and encoding use. Shared so that a word is
 * split into characters exactly the same way when merges are learned and when they are applied.
 */
import { END_OF_WORD } from './normalize.js';

/** Upper bound on vocabulary size so a pair of ids packs into one exact double (2^21 · 2^21 < 2^53). */
export const MAX_VOCAB_SIZE = 1 << 21;

/** Packs an ordered id pair into one number: Map lookups on numbers are much cheaper than on strings. */
export function pairKey(left: number, right: number): number {
  return left * MAX_VOCAB_SIZE + right;
}

/** Ids the splitter needs: the token → id table plus the fallbacks for unknown characters. */
export interface SymbolTable {
  ids: ReadonlyMap<string, number>;
  unkId: number;
  endOfWordId: number;
}

/**
 * Splits one pre-token into character symbols, the last carrying `</w>`. Characters outside the vocabulary
 * become `<unk>`; when the LAST character is unknown (or has no `c</w>` form) the word end is kept as a
 * standalone `</w>` symbol, so decoding still puts the space back. Iterates code points, not UTF-16 units,
 * so an emoji is one (unknown) character rather than two broken halves.
 */
export function wordToSymbols(word: string, table: SymbolTable): number[] {
  const chars = Array.from(word);
  const out: number[] = [];
  const last = chars.length - 1;
  for (let i = 0; i < last; i++) out.push(table.ids.get(chars[i]) ?? table.unkId);
  if (last < 0) return out;
  const finalWithEnd = table.ids.get(chars[last] + END_OF_WORD);
  if (finalWithEnd !== undefined) {
    out.push(finalWithEnd);
  } else {
    out.push(table.ids.get(chars[last]) ?? table.unkId, table.endOfWordId);
  }
  return out;
}
