import type * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic_write.js';
import { SafetensorsError } from './safetensors_error.js';
import type { SafetensorsContents } from './safetensors_parse.js';
import { parseSafetensors } from './safetensors_parse.js';
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
