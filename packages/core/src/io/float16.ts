/**
 * Half-precision decoding. tfjs has no float16 or bfloat16 dtype, and checkpoints from PyTorch are often
 * stored in one of them, so they are widened to float32 on load. Both widenings are exact: every binary16
 * and every bfloat16 value (subnormals, ±0, ±Infinity included) is representable in float32.
 */

/** Decodes one IEEE 754 binary16 bit pattern (1 sign, 5 exponent, 10 fraction bits). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  // Subnormal (and zero): no implicit leading 1, fixed exponent 2^-14, so the step is 2^-24.
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** Decodes one bfloat16 bit pattern: the upper 16 bits of a float32, so widening is a shift. */
export function bfloat16BitsToNumber(bits: number): number {
  const scratch = new Uint32Array(1);
  scratch[0] = (bits & 0xffff) << 16;
  return new Float32Array(scratch.buffer)[0];
}

let float16Table: Float32Array | undefined;

/**
 * All 65,536 binary16 values, built once (256 KiB) on first use: a table lookup is several times faster than
 * decoding each element, which matters for checkpoints with hundreds of millions of weights.
 */
function getFloat16Table(): Float32Array {
  if (float16Table == null) {
    float16Table = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) float16Table[bits] = float16BitsToNumber(bits);
  }
  return float16Table;
}

/** Widens binary16 bit patterns (in host byte order) to float32 values. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const table = getFloat16Table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** Widens bfloat16 bit patterns (in host byte order) to float32 values. */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  // Writing the float32 bit patterns through an integer view keeps NaN payloads and is exact by definition.
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}
