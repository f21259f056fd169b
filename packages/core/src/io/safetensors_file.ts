import type * as tf from '@tensorflow/tfjs';
import { open, readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic_write.js';
import { SafetensorsError } from './safetensors_error.js';
import type { SafetensorsContents } from './safetensors_parse.js';
import { SAFETENSORS_MAX_HEADER_BYTES, parseSafetensors } from './safetensors_parse.js';
import { serializeSafetensors } from './safetensors_serialize.js';

function describeReadError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a safetensors file';
  return `could not read file (${err instanceof Error ? err.message : String(err)})`;
}

/**
 * Reads and validates a safetensors file (see `parseSafetensors` for dtypes and checks). Every error,
 * including a missing file, is a `SafetensorsError` whose message starts with `path`. The whole file is read
 * into memory, so it must fit in one Node buffer.
 */
export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SafetensorsError(path, describeReadError(err), { cause: err });
  }
  return parseSafetensors(bytes, path);
}

/**
 * Reads only the header of a safetensors file (its metadata), without reading the tensor data: which
 * model format a file is can be told from a multi-gigabyte file in microseconds. Errors as `readSafetensors`.
 */
export async function readSafetensorsHeader(path: string): Promise<{ metadata: Record<string, string> }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new SafetensorsError(path, describeReadError(err), { cause: err });
  }
  try {
    const prefix = Buffer.alloc(8);
    const { bytesRead } = await handle.read(prefix, 0, 8, 0);
    if (bytesRead < 8) throw new SafetensorsError(path, 'file is shorter than the 8-byte header length');
    const length = prefix.readBigUInt64LE(0);
    if (length > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
      throw new SafetensorsError(
        path,
        `header length ${length} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`,
      );
    }
    const header = Buffer.alloc(Number(length));
    const got = await handle.read(header, 0, header.length, 8);
    if (got.bytesRead < header.length)
      throw new SafetensorsError(path, 'header runs past the end of the file');
    let parsed: unknown;
    try {
      parsed = JSON.parse(header.toString('utf8'));
    } catch (err) {
      throw new SafetensorsError(path, `header is not valid JSON (${(err as Error).message})`, {
        cause: err,
      });
    }
    const meta = (parsed as { __metadata__?: unknown }).__metadata__ ?? {};
    const ok =
      typeof meta === 'object' && meta !== null && Object.values(meta).every((v) => typeof v === 'string');
    if (!ok) throw new SafetensorsError(path, '__metadata__ must map strings to strings');
    return { metadata: meta as Record<string, string> };
  } finally {
    await handle.close();
  }
}

/**
 * Writes tensors (float32, int32, bool) and string metadata as a safetensors file, atomically: a crash
 * mid-write leaves the previous file intact. To keep a model config with the weights, put
 * `JSON.stringify(config)` in `metadata` under a key of your choosing.
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
