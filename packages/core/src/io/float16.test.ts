import { describe, expect, it } from 'vitest';
import { bfloat16BitsToNumber, bfloat16ToFloat32, float16BitsToNumber, float16ToFloat32 } from './float16.js';

describe('float16BitsToNumber', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3800, 0.5],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x8001, -(2 ** -24)],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('decodes bit pattern %i exactly', (bits, value) => {
    expect(float16BitsToNumber(bits)).toBe(value);
  });

  it('keeps the sign of zero and decodes every NaN pattern as NaN', () => {
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    for (const bits of [0x7e00, 0x7c01, 0xfe00, 0x7fff]) expect(float16BitsToNumber(bits)).toBeNaN();
  });

  it('agrees with the table-driven array conversion for all 65536 patterns', () => {
    const all = new Uint16Array(0x10000).map((_, i) => i);
    const widened = float16ToFloat32(all);
    const mismatches: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const expected = float16BitsToNumber(bits);
      if (!Object.is(widened[bits], expected) && !(Number.isNaN(expected) && Number.isNaN(widened[bits]))) {
        mismatches.push(bits);
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe('bfloat16', () => {
  it.each([
    [0x3f80, 1],
    [0xc000, -2],
    [0x3f00, 0.5],
    [0x4049, 3.140625],
    [0x7f7f, 3.3895313892515355e38],
    [0x0001, 2 ** -133],
    [0x0080, 2 ** -126],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ])('decodes bit pattern %i exactly', (bits, value) => {
    expect(bfloat16BitsToNumber(bits)).toBe(value);
    expect(bfloat16ToFloat32(new Uint16Array([bits]))[0]).toBe(value);
  });

  it('keeps -0 and NaN', () => {
    expect(Object.is(bfloat16BitsToNumber(0x8000), -0)).toBe(true);
    expect(bfloat16BitsToNumber(0x7fc0)).toBeNaN();
    expect(bfloat16ToFloat32(new Uint16Array([0xffc1]))[0]).toBeNaN();
  });
});
