import { DatasetError } from '../dataset_error.js';

/**
 * WebDataset's shard patterns (the Python `braceexpand` package, which webdataset and open_clip use):
 * `{000000..000099}` is a numeric range (zero-padded to the wider bound when either has a leading zero;
 * `{0..9..2}` steps, `{9..0}` counts down), `{a,b,c}` a list, braces nest and several groups multiply out
 * left to right. A brace group with neither `..` nor a comma is kept literally, as in braceexpand.
 */

/** More names than this is a typo in a range, not a dataset: refused before any is made. */
export const MAX_EXPANDED_NAMES = 1_000_000;

/** The index of the `}` closing the `{` at `open`, or -1. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Top-level comma-separated parts of a brace body. */
function splitTop(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function range(body: string, pattern: string): string[] | null {
  const m = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(body);
  if (!m) return null;
  const [from, to] = [Number(m[1]), Number(m[2])];
  const step = Math.abs(Number(m[3] ?? 1)) || 1;
  const count = Math.floor(Math.abs(to - from) / step) + 1;
  if (count > MAX_EXPANDED_NAMES) {
    throw new DatasetError(
      'bad-option',
      `The shard pattern ${pattern} expands {${body}} to ${count.toLocaleString('en-US')} names; check the range.`,
    );
  }
  const padded = /^-?0\d/.test(m[1]) || /^-?0\d/.test(m[2]);
  const width = padded ? Math.max(m[1].replace('-', '').length, m[2].replace('-', '').length) : 0;
  const out: string[] = [];
  const dir = to >= from ? 1 : -1;
  for (let k = 0, v = from; k < count; k++, v += dir * step) {
    const digits = String(Math.abs(v)).padStart(width, '0');
    out.push(v < 0 ? `-${digits}` : digits);
  }
  return out;
}

function expand(s: string, pattern: string): string[] {
  const open = s.indexOf('{');
  const close = open === -1 ? -1 : closing(s, open);
  if (close === -1) return [s];
  const body = s.slice(open + 1, close);
  const head = s.slice(0, open);
  const tails = expand(s.slice(close + 1), pattern);
  let alternatives = range(body, pattern);
  if (alternatives === null) {
    const parts = splitTop(body);
    // a group with neither a range nor a comma is literal: keep `{body}`, expanding what is inside it
    alternatives =
      parts.length < 2
        ? expand(body, pattern).map((b) => `{${b}}`)
        : parts.flatMap((p) => expand(p, pattern));
  }
  if (alternatives.length * tails.length > MAX_EXPANDED_NAMES) {
    throw new DatasetError(
      'bad-option',
      `The shard pattern ${pattern} expands to over ${MAX_EXPANDED_NAMES.toLocaleString('en-US')} names; check its ranges.`,
    );
  }
  return alternatives.flatMap((a) => tails.map((t) => `${head}${a}${t}`));
}

/** All names `pattern` stands for, in order (`::` separates patterns, as in webdataset and open_clip). */
export function expandBraces(pattern: string): string[] {
  return pattern.split('::').flatMap((p) => expand(p, pattern));
}
