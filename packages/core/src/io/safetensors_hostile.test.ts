import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, readSafetensors, SafetensorsError } from './index.js';

let dir: string;
let count = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'moevl-hostile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** u64 LE header length (the header's own length unless `declared` is given), header bytes, data bytes. */
function buildFile(header: string | Uint8Array, data: ArrayLike<number> = [], declared?: bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** One tensor entry as header JSON text. */
function entry(name: string, dtype: string, shape: unknown, offsets: unknown): string {
  return `"${name}":` + JSON.stringify({ dtype, shape, data_offsets: offsets });
}

/** Writes `bytes` to a fresh file and expects reading it to fail with `problem`, prefixed by the path. */
async function expectRejected(bytes: Uint8Array, problem: RegExp): Promise<void> {
  const path = join(dir, `case-${count++}.safetensors`);
  await writeFile(path, bytes);
  const before = tf.memory().numTensors;
  const err = await readSafetensors(path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SafetensorsError);
  const message = (err as Error).message;
  expect(message.startsWith(`${path}: `)).toBe(true);
  expect(message).toMatch(problem);
  expect(tf.memory().numTensors).toBe(before);
}

const f32 = (n: number): number[] => new Array<number>(4 * n).fill(0);

describe('hostile safetensors files', () => {
  it('file shorter than 8 bytes', async () => {
    await expectRejected(
      new Uint8Array([1, 0, 0, 0, 0]),
      /file is 5 bytes, shorter than the 8-byte header length/,
    );
  });

  it('header length past the end of the file', async () => {
    await expectRejected(
      buildFile('{}', [], 1000n),
      /header length 1000 runs past the end of the file \(10 bytes/,
    );
  });

  it('header length over 100 MB', async () => {
    await expectRejected(
      buildFile('{}', [], 100_000_001n),
      /header length 100000001 exceeds the 100000000-byte limit/,
    );
    await expectRejected(buildFile('{}', [], 2n ** 64n - 1n), /header length 18446744073709551615 exceeds/);
  });

  it('header not valid UTF-8', async () => {
    await expectRejected(buildFile(new Uint8Array([0x7b, 0xff, 0x7d])), /header is not valid UTF-8/);
  });

  it('header not valid JSON', async () => {
    await expectRejected(buildFile('{"a":'), /header is not valid JSON/);
  });

  it('header not an object', async () => {
    await expectRejected(buildFile('[1,2]'), /header must be a JSON object, got \[1,2\]/);
    await expectRejected(buildFile('null'), /header must be a JSON object, got null/);
  });

  it('entry not an object', async () => {
    await expectRejected(buildFile('{"w":[1,2]}'), /tensor "w": entry must be an object/);
  });

  it('entry missing dtype', async () => {
    await expectRejected(
      buildFile('{"w":{"shape":[1],"data_offsets":[0,4]}}', f32(1)),
      /tensor "w": "dtype" must be a string, got missing/,
    );
  });

  it('entry missing shape', async () => {
    await expectRejected(
      buildFile('{"w":{"dtype":"F32","data_offsets":[0,4]}}', f32(1)),
      /tensor "w": "shape" must be an array, got missing/,
    );
  });

  it('entry missing data_offsets', async () => {
    await expectRejected(
      buildFile('{"w":{"dtype":"F32","shape":[1]}}', f32(1)),
      /tensor "w": "data_offsets" must be an array \[begin, end\], got missing/,
    );
  });

  it('entry fields of the wrong type', async () => {
    await expectRejected(
      buildFile('{"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}', f32(1)),
      /"dtype" must be a string, got 7/,
    );
    await expectRejected(
      buildFile(`{${entry('w', 'F32', '1', [0, 4])}}`, f32(1)),
      /"shape" must be an array, got "1"/,
    );
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [1], [0, 4, 8])}}`, f32(1)),
      /"data_offsets" must be an array \[begin, end\], got \[0,4,8\]/,
    );
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [1], ['0', 4])}}`, f32(1)),
      /data_offsets \["0",4\] must be non-negative integers/,
    );
  });

  it('unknown dtype', async () => {
    await expectRejected(
      buildFile(`{${entry('w', 'Q7', [1], [0, 4])}}`, f32(1)),
      /tensor "w": unknown or unsupported dtype "Q7" \(supported: F64, F32/,
    );
  });

  it('negative shape dimension', async () => {
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [-1], [0, 4])}}`, f32(1)),
      /tensor "w": shape \[-1\] has dimension -1; dimensions must be non-negative integers/,
    );
  });

  it('non-integer shape dimension', async () => {
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [1.5, 2], [0, 12])}}`, f32(3)),
      /shape \[1\.5,2\] has dimension 1\.5/,
    );
    await expectRejected(buildFile(`{${entry('w', 'F32', ['2'], [0, 8])}}`, f32(2)), /has dimension "2"/);
  });

  it('data_offsets past the end of the buffer', async () => {
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [2], [0, 8])}}`, f32(1)),
      /tensor "w": data_offsets \[0, 8\] run past the end of the data buffer \(4 bytes\)/,
    );
  });

  it('data_offsets begin after end', async () => {
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [1], [4, 0])}}`, f32(1)),
      /tensor "w": data_offsets \[4, 0\] begin after they end/,
    );
  });

  it('negative data_offsets', async () => {
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [1], [-4, 0])}}`, f32(1)),
      /data_offsets \[-4,0\] must be non-negative integers/,
    );
  });

  it('overlapping tensors', async () => {
    const header = `{${entry('a', 'F32', [2], [0, 8])},${entry('b', 'F32', [2], [4, 12])}}`;
    await expectRejected(buildFile(header, f32(3)), /tensors "a" and "b" overlap \(bytes 4\.\.8/);
  });

  it('two tensors on the same bytes', async () => {
    const header = `{${entry('a', 'F32', [1], [0, 4])},${entry('b', 'I32', [1], [0, 4])}}`;
    await expectRejected(buildFile(header, f32(1)), /tensors "a" and "b" overlap/);
  });

  it('byte length not matching the shape', async () => {
    await expectRejected(
      buildFile(`{${entry('w', 'F32', [3], [0, 8])}}`, f32(2)),
      /tensor "w": byte length 8 .* does not match shape \[3\] of F32 \(12 bytes\)/,
    );
    await expectRejected(
      buildFile(`{${entry('w', 'F16', [1], [0, 4])}}`, f32(1)),
      /byte length 4 .* F16 \(2 bytes\)/,
    );
  });

  it('huge shape (element count past 2^53) is a mismatch, not a crash', async () => {
    const shape = [2 ** 52, 2 ** 52];
    await expectRejected(buildFile(`{${entry('w', 'U8', shape, [0, 0])}}`), /does not match shape/);
  });

  it('hole between tensors', async () => {
    const header = `{${entry('a', 'F32', [1], [0, 4])},${entry('b', 'F32', [1], [8, 12])}}`;
    await expectRejected(
      buildFile(header, f32(3)),
      /hole in the data buffer: bytes 4\.\.8 \(before tensor "b"\)/,
    );
  });

  it('hole before the first tensor', async () => {
    await expectRejected(
      buildFile(`{${entry('a', 'F32', [1], [4, 8])}}`, f32(2)),
      /hole in the data buffer: bytes 0\.\.4/,
    );
  });

  it('trailing bytes that belong to no tensor', async () => {
    await expectRejected(
      buildFile(`{${entry('a', 'F32', [1], [0, 4])}}`, f32(2)),
      /hole in the data buffer: bytes 4\.\.8 at the end/,
    );
    await expectRejected(buildFile('{}', [0]), /hole in the data buffer: bytes 0\.\.1 at the end/);
  });

  it('__metadata__ not an object', async () => {
    await expectRejected(
      buildFile('{"__metadata__":["a"]}'),
      /"__metadata__" must be an object of strings, got \["a"\]/,
    );
  });

  it('__metadata__ value not a string', async () => {
    await expectRejected(
      buildFile('{"__metadata__":{"format":"pt","epoch":3}}'),
      /"__metadata__" value for key "epoch" must be a string, got 3/,
    );
  });

  it('I64 value outside the int32 range', async () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(8, -(2n ** 31n) - 1n, true);
    await expectRejected(
      buildFile(`{${entry('ids', 'I64', [2], [0, 16])}}`, data),
      /tensor "ids" \(I64\) holds -2147483649 at flat index 1, outside the int32 range/,
    );
  });

  it('BOOL byte other than 0 or 1', async () => {
    await expectRejected(
      buildFile(`{${entry('m', 'BOOL', [2], [0, 2])}}`, [1, 2]),
      /tensor "m" \(BOOL\) holds byte 2 at flat index 1/,
    );
  });

  it('names <buffer> when parsing bytes without a path', () => {
    expect(() => parseSafetensors(new Uint8Array(3))).toThrow(/^<buffer>: file is 3 bytes/);
  });
});
