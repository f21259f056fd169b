import type * as tf from '@tensorflow/tfjs';
import type { StoredTfDtype } from './safetensors_dtypes.js';
import { encodeTensorData, SAFETENSORS_DTYPE_BYTES, TF_TO_SAFETENSORS_DTYPE } from './safetensors_dtypes.js';
import { METADATA_KEY } from './safetensors_header.js';

interface PlannedTensor {
  name: string;
  tensor: tf.Tensor;
  dtype: StoredTfDtype;
  elementBytes: number;
}

function isStoredDtype(dtype: string): dtype is StoredTfDtype {
  return Object.hasOwn(TF_TO_SAFETENSORS_DTYPE, dtype);
}

/** Code-unit order, not localeCompare: the byte layout must not depend on the machine's locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function planTensors(tensors: Record<string, tf.Tensor>): PlannedTensor[] {
  const planned = Object.keys(tensors).map((name): PlannedTensor => {
    const tensor = tensors[name];
    if (name === METADATA_KEY)
      throw new Error(`safetensors: "${METADATA_KEY}" is reserved, not a tensor name`);
    if (tensor == null || typeof tensor.dataSync !== 'function') {
      throw new Error(`safetensors: "${name}" is not a tensor`);
    }
    if (tensor.isDisposed) throw new Error(`safetensors: tensor "${name}" is disposed`);
    const dtype = tensor.dtype;
    if (!isStoredDtype(dtype)) {
      throw new Error(
        `safetensors: tensor "${name}" has dtype ${dtype}; only float32, int32 and bool can be saved`,
      );
    }
    return { name, tensor, dtype, elementBytes: SAFETENSORS_DTYPE_BYTES[TF_TO_SAFETENSORS_DTYPE[dtype]] };
  });
  // Widest elements first, then by name, as the reference implementation orders them: with the header padded
  // to a multiple of 8, every tensor then starts at a file offset aligned to its element size, which lets
  // zero-copy readers (mmap + typed views) use the data in place. With one element size it is name order.
  return planned.sort((a, b) => b.elementBytes - a.elementBytes || compareNames(a.name, b.name));
}

function checkMetadata(metadata: Record<string, string>): [string, string][] {
  const entries = Object.entries(metadata);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') {
      throw new Error(
        `safetensors: metadata value for key "${key}" must be a string, got ${typeof value}; ` +
          'store structured values as JSON.stringify(value)',
      );
    }
  }
  return entries.sort(([a], [b]) => compareNames(a, b));
}

/**
 * Serializes tensors to safetensors bytes: float32 → F32, int32 → I32, bool → BOOL. The header lists
 * `"__metadata__"` first (only when non-empty, with keys sorted) and then the tensors in data order
 * (see `planTensors`); it is padded with spaces to a multiple of 8 bytes. The output depends only on the
 * inputs, so the same weights always give the same file. Reads tensor data synchronously (`dataSync`).
 */
export function serializeSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const metadataEntries = checkMetadata(metadata ?? {});
  const planned = planTensors(tensors);

  const headerParts: string[] = [];
  if (metadataEntries.length > 0) {
    const body = metadataEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');
    headerParts.push(`${JSON.stringify(METADATA_KEY)}:{${body}}`);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const { name, tensor, dtype, elementBytes } of planned) {
    const end = offset + tensor.size * elementBytes;
    const entry = { dtype: TF_TO_SAFETENSORS_DTYPE[dtype], shape: tensor.shape, data_offsets: [offset, end] };
    headerParts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    offsets.push(offset);
    offset = end;
  }
  const headerJson = new TextEncoder().encode(`{${headerParts.join(',')}}`);
  const headerLength = Math.ceil(headerJson.byteLength / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(headerJson, 8);
  out.fill(0x20, 8 + headerJson.byteLength, 8 + headerLength);
  planned.forEach(({ tensor, dtype }, i) => {
    encodeTensorData(dtype, tensor.dataSync(), out, 8 + headerLength + offsets[i]);
  });
  return out;
}
