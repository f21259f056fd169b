import { bfloat16ToFloat32, float16ToFloat32 } from './float16.js';
import { SafetensorsError } from './safetensors_error.js';

/**
 * The safetensors dtypes this reader understands, with their element size in bytes. tfjs only has float32,
 * int32 and bool, so everything is mapped onto one of those on load (see `decodeTensorData`).
 */
export const SAFETENSORS_DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;

/** The tfjs dtypes produced on load and accepted on save. */
export type StoredTfDtype = 'float32' | 'int32' | 'bool';
export type StoredValues = Float32Array | Int32Array | Uint8Array;

export function isSafetensorsDtype(dtype: string): dtype is SafetensorsDtype {
  return Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype);
}

/** The format is little-endian; on a big-endian host every element has to be byte-swapped. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Copies `raw` into a fresh ArrayBuffer in host byte order. The copy is needed anyway: tensor data inside the
 * file can start at any byte offset, and typed arrays need offsets aligned to their element size.
 */
function hostOrderCopy(raw: Uint8Array, elementBytes: number): ArrayBuffer {
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  if (!HOST_IS_LITTLE_ENDIAN && elementBytes > 1) {
    for (let at = 0; at < copy.length; at += elementBytes) copy.subarray(at, at + elementBytes).reverse();
  }
  return copy.buffer;
}

/**
 * Narrows int64 to int32, refusing (not wrapping) any value outside the int32 range: a wrapped token id or
 * index would be a silently wrong tensor.
 */
function int64ToInt32(buffer: ArrayBuffer, name: string, source: string): Int32Array {
  const words = new Int32Array(buffer);
  const out = new Int32Array(words.length / 2);
  const low = HOST_IS_LITTLE_ENDIAN ? 0 : 1;
  for (let i = 0; i < out.length; i++) {
    const lo = words[2 * i + low];
    // The value fits in int32 exactly when the high word is the sign extension of the low word.
    if (words[2 * i + 1 - low] !== lo >> 31) {
      const value = new BigInt64Array(buffer)[i];
      throw new SafetensorsError(
        source,
        `tensor "${name}" (I64) holds ${value} at flat index ${i}, outside the int32 range tfjs supports`,
      );
    }
    out[i] = lo;
  }
  return out;
}

function checkBooleans(values: Uint8Array, name: string, source: string): Uint8Array {
  for (let i = 0; i < values.length; i++) {
    if (values[i] > 1) {
      throw new SafetensorsError(
        source,
        `tensor "${name}" (BOOL) holds byte ${values[i]} at flat index ${i}; booleans must be 0 or 1`,
      );
    }
  }
  return values;
}

/**
 * Converts the little-endian bytes of one tensor to values tfjs can hold: F16/BF16 are widened to float32
 * exactly, F64 is rounded to float32 (magnitudes past 3.4e38 become ±Infinity), the small integer types are
 * widened to int32, I64 is narrowed to int32 with a range check, and BOOL bytes must be 0 or 1.
 * `raw.byteLength` must already be a multiple of the element size.
 */
export function decodeTensorData(
  dtype: SafetensorsDtype,
  raw: Uint8Array,
  name: string,
  source: string,
): { values: StoredValues; dtype: StoredTfDtype } {
  const buffer = hostOrderCopy(raw, SAFETENSORS_DTYPE_BYTES[dtype]);
  switch (dtype) {
    case 'F32':
      return { values: new Float32Array(buffer), dtype: 'float32' };
    case 'F64':
      return { values: Float32Array.from(new Float64Array(buffer)), dtype: 'float32' };
    case 'F16':
      return { values: float16ToFloat32(new Uint16Array(buffer)), dtype: 'float32' };
    case 'BF16':
      return { values: bfloat16ToFloat32(new Uint16Array(buffer)), dtype: 'float32' };
    case 'I32':
      return { values: new Int32Array(buffer), dtype: 'int32' };
    case 'I64':
      return { values: int64ToInt32(buffer, name, source), dtype: 'int32' };
    case 'I16':
      return { values: Int32Array.from(new Int16Array(buffer)), dtype: 'int32' };
    case 'U16':
      return { values: Int32Array.from(new Uint16Array(buffer)), dtype: 'int32' };
    case 'I8':
      return { values: Int32Array.from(new Int8Array(buffer)), dtype: 'int32' };
    case 'U8':
      return { values: Int32Array.from(new Uint8Array(buffer)), dtype: 'int32' };
    case 'BOOL':
      return { values: checkBooleans(new Uint8Array(buffer), name, source), dtype: 'bool' };
  }
}

/** The safetensors dtype each storable tfjs dtype is written as. */
export const TF_TO_SAFETENSORS_DTYPE: Record<StoredTfDtype, SafetensorsDtype> = {
  float32: 'F32',
  int32: 'I32',
  bool: 'BOOL',
};

/**
 * Writes `values` little-endian into `out` at `offset`. Backends are free to return another typed array from
 * `dataSync` than the one matching the dtype, so values are normalised to it; bool is always re-coded as
 * strict 0/1 bytes.
 */
export function encodeTensorData(
  dtype: StoredTfDtype,
  values: ArrayLike<number>,
  out: Uint8Array,
  offset: number,
): void {
  let typed: StoredValues;
  if (dtype === 'float32')
    typed = values instanceof Float32Array ? values : Float32Array.from(values, Number);
  else if (dtype === 'int32') typed = values instanceof Int32Array ? values : Int32Array.from(values, Number);
  else typed = Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  out.set(bytes, offset);
  if (!HOST_IS_LITTLE_ENDIAN && typed.BYTES_PER_ELEMENT > 1) {
    const size = typed.BYTES_PER_ELEMENT;
    for (let at = offset; at < offset + bytes.length; at += size) out.subarray(at, at + size).reverse();
  }
}
