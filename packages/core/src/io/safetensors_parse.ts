import * as tf from '@tensorflow/tfjs';
import { decodeTensorData } from './safetensors_dtypes.js';
import { SafetensorsError } from './safetensors_error.js';
import { validateHeader } from './safetensors_header.js';

/**
 * The largest header accepted, in bytes (as in the reference implementation): the length prefix is read
 * before anything else, so without a cap a corrupt or hostile file could make us decode gigabytes of "JSON".
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/**
 * What a safetensors file holds. `metadata` is free-form string→string; to ship a model config with its
 * weights, the caller stores `JSON.stringify(config)` under a key of its choosing (e.g. `"config"`) and
 * `JSON.parse`s it after loading. The format itself knows nothing of configs.
 */
export interface SafetensorsContents {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a whole safetensors file held in memory. Layout: an 8-byte little-endian u64 header length N, N
 * bytes of UTF-8 JSON (possibly padded with spaces) mapping tensor names to `{dtype, shape, data_offsets}`
 * plus an optional `"__metadata__"` string map, then the data buffer that the offsets index into.
 *
 * F32/F16/BF16/F64 load as float32, I64/I32/I16/U16/I8/U8 as int32 and BOOL as bool (see
 * `decodeTensorData` for the conversions). Every malformed input throws a `SafetensorsError` whose message
 * starts with `source` (pass the file path); all checks and conversions run before the first tensor is
 * created, so a failure leaves no tensors behind. The caller owns (and must dispose) the returned tensors.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  // A plain view: a Node Buffer's slice() shares memory, so only subarray()/explicit copies are used below.
  const file = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (file.byteLength < 8) {
    throw new SafetensorsError(
      source,
      `file is ${file.byteLength} bytes, shorter than the 8-byte header length ` +
        'every safetensors file starts with',
    );
  }
  const headerLength = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      source,
      `header length ${headerLength} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit ` +
        '(corrupt file, or not safetensors)',
    );
  }
  const headerEnd = 8 + Number(headerLength);
  if (headerEnd > file.byteLength) {
    throw new SafetensorsError(
      source,
      `header length ${headerLength} runs past the end of the file ` +
        `(${file.byteLength} bytes; truncated, or not safetensors)`,
    );
  }

  let headerText: string;
  try {
    headerText = utf8.decode(file.subarray(8, headerEnd));
  } catch (err) {
    throw new SafetensorsError(source, 'header is not valid UTF-8', { cause: err });
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SafetensorsError(source, `header is not valid JSON (${reason})`, { cause: err });
  }

  const data = file.subarray(headerEnd);
  const { entries, metadata } = validateHeader(header, data.byteLength, source);
  const decoded = entries.map((entry) => ({
    entry,
    ...decodeTensorData(entry.dtype, data.subarray(entry.begin, entry.end), entry.name, source),
  }));

  const tensors: [string, tf.Tensor][] = [];
  try {
    for (const { entry, values, dtype } of decoded) {
      tensors.push([entry.name, tf.tensor(values, entry.shape, dtype)]);
    }
  } catch (err) {
    tf.dispose(tensors.map(([, t]) => t));
    throw err;
  }
  // fromEntries defines own properties, so a tensor named "__proto__" stays an ordinary key.
  return { tensors: Object.fromEntries(tensors), metadata };
}
