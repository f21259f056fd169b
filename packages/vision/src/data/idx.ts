import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DatasetError } from './dataset_error.js';

/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun's `train-images-idx3-ubyte` & co.): a big-endian magic
 * `0x0000 08 <rank>` (type 0x08 = unsigned byte), `rank` big-endian uint32 dimensions, then the bytes. The
 * official distributions gzip each file; both forms are read.
 */
export interface IdxArray {
  /** Dimensions, e.g. `[10000, 28, 28]` for images, `[10000]` for labels. */
  shape: number[];
  data: Uint8Array;
  /** sha256 (hex) of the uncompressed file, to tell the official files from anything else. */
  sha256: string;
}

const UBYTE = 0x08;

/** Parses one IDX file's bytes (gzip-compressed or not); `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  let raw: Uint8Array = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes);
    } catch (error) {
      throw new DatasetError(
        'bad-dataset-file',
        `${file} is not a readable gzip file (${(error as Error).message}); download it again.`,
        { cause: error },
      );
    }
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const bad = (why: string): never => {
    throw new DatasetError('bad-dataset-file', `${file} is not an IDX file of unsigned bytes: ${why}.`);
  };
  if (raw.length < 8) bad(`only ${raw.length} bytes`);
  if (view.getUint16(0) !== 0 || view.getUint8(2) !== UBYTE) bad('its magic number is wrong');
  const rank = view.getUint8(3);
  if (rank < 1 || raw.length < 4 + 4 * rank) bad(`rank ${rank}`);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const header = 4 + 4 * rank;
  const size = shape.reduce((a, b) => a * b, 1);
  if (raw.length !== header + size) {
    bad(`the header announces ${shape.join('×')} = ${size} bytes, the file holds ${raw.length - header}`);
  }
  return {
    shape,
    data: raw.subarray(header),
    sha256: createHash('sha256').update(raw).digest('hex'),
  };
}

/** Reads and parses an IDX file; a missing or unreadable file is a `DatasetError` naming it. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(
      code === 'ENOENT' ? 'missing-files' : 'bad-dataset-file',
      `Cannot read ${path} (${code ?? (error as Error).message}).`,
      { cause: error },
    );
  }
  return parseIdx(bytes, path);
}

/** IDX bytes for `data` of `shape` (unsigned bytes), gzip-compressed unless `gzip: false`. */
export function encodeIdx(
  shape: readonly number[],
  data: Uint8Array,
  options: { gzip?: boolean } = {},
): Buffer {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new RangeError(`encodeIdx: ${data.length} bytes for shape [${shape.join(', ')}] (${size}).`);
  }
  const header = Buffer.alloc(4 + 4 * shape.length);
  header.writeUInt8(UBYTE, 2);
  header.writeUInt8(shape.length, 3);
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const raw = Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  return options.gzip === false ? raw : gzipSync(raw);
}
