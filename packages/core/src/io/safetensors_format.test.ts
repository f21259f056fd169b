import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '../testing/index.js';
import { parseSafetensors, serializeSafetensors } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A file from the spec: u64 LE header length, the header bytes as given, then the data bytes. */
function buildFile(header: string, data: ArrayLike<number> = []): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian bytes of the given values, one DataView setter per element. */
function leBytes(values: (number | bigint)[], size: 1 | 2 | 4 | 8, kind: 'int' | 'uint' | 'float'): number[] {
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    const at = i * size;
    if (kind === 'float') {
      if (size === 4) view.setFloat32(at, Number(v), true);
      else view.setFloat64(at, Number(v), true);
    } else if (size === 8) {
      if (kind === 'int') view.setBigInt64(at, BigInt(v), true);
      else view.setBigUint64(at, BigInt(v), true);
    } else if (size === 4) view.setInt32(at, Number(v), true);
    else if (size === 2) view.setUint16(at, Number(v), true);
    else view.setUint8(at, Number(v));
  });
  return [...new Uint8Array(view.buffer)];
}

describe('parseSafetensors on hand-built bytes', () => {
  it('reads F32, F16 and BF16 exactly, including subnormals, infinities, NaN and -0', () => {
    const f32 = [1.0, -2.5];
    const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x8000];
    const bf16 = [0x3f80, 0xc000, 0x3f00, 0x7f80, 0x0001, 0x7fc0, 0x7f7f, 0x8000];
    // Header written by hand, padded with spaces as writers may do; keys deliberately not in data order.
    const header =
      '{"h":{"dtype":"F16","shape":[10],"data_offsets":[8,28]},' +
      '"__metadata__":{"format":"pt","note":"hand made"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"BF16","shape":[2,4],"data_offsets":[28,44]}}   ';
    const bytes = buildFile(header, [
      ...leBytes(f32, 4, 'float'),
      ...leBytes(f16, 2, 'uint'),
      ...leBytes(bf16, 2, 'uint'),
    ]);

    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'hand made' });
    expect(Object.keys(tensors).sort()).toEqual(['a', 'b', 'h']);
    expect(tensors.a.dtype).toBe('float32');
    expect(tensors.a.shape).toEqual([2]);
    expect([...tensors.a.dataSync()]).toEqual([1, -2.5]);

    expect(tensors.h.dtype).toBe('float32');
    const h = [...tensors.h.dataSync()];
    expect(h.slice(0, 8)).toEqual([1, -2, 0.5, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity]);
    expect(h[8]).toBeNaN();
    expect(Object.is(h[9], -0)).toBe(true);

    expect(tensors.b.shape).toEqual([2, 4]);
    const b = [...tensors.b.dataSync()];
    expect(b.slice(0, 5)).toEqual([1, -2, 0.5, Infinity, 2 ** -133]);
    expect(b[5]).toBeNaN();
    expect(b[6]).toBe(3.3895313892515355e38);
    expect(Object.is(b[7], -0)).toBe(true);
    tf.dispose(tensors);
  });

  it('reads F64, the integer types and BOOL, at unaligned offsets', () => {
    const entries: [string, string, number[], number[]][] = [
      ['bool', 'BOOL', [3], [1, 0, 1]],
      ['f64', 'F64', [2], leBytes([0.1, -1e300], 8, 'float')],
      ['i64', 'I64', [3], leBytes([-(2n ** 31n), 2n ** 31n - 1n, -1n], 8, 'int')],
      ['i32', 'I32', [1], leBytes([-123456789], 4, 'int')],
      ['i16', 'I16', [2], leBytes([0x8000, 0x7fff], 2, 'uint')],
      ['u16', 'U16', [1], leBytes([0xffff], 2, 'uint')],
      ['i8', 'I8', [2], [0x80, 0x7f]],
      ['u8', 'U8', [1, 1], [0xff]],
    ];
    let offset = 0;
    const parts = entries.map(([name, dtype, shape, data]) => {
      const offsets = [offset, offset + data.length];
      const part = `"${name}":` + JSON.stringify({ dtype, shape, data_offsets: offsets });
      offset += data.length;
      return part;
    });
    const { tensors } = parseSafetensors(
      buildFile(
        `{${parts.join(',')}}`,
        entries.flatMap(([, , , d]) => d),
      ),
    );
    expect(tensors.bool.dtype).toBe('bool');
    expect([...tensors.bool.dataSync()]).toEqual([1, 0, 1]);
    expect(tensors.f64.dtype).toBe('float32');
    expect([...tensors.f64.dataSync()]).toEqual([Math.fround(0.1), -Infinity]);
    for (const name of ['i64', 'i32', 'i16', 'u16', 'i8', 'u8']) expect(tensors[name].dtype).toBe('int32');
    expect([...tensors.i64.dataSync()]).toEqual([-(2 ** 31), 2 ** 31 - 1, -1]);
    expect([...tensors.i32.dataSync()]).toEqual([-123456789]);
    expect([...tensors.i16.dataSync()]).toEqual([-32768, 32767]);
    expect([...tensors.u16.dataSync()]).toEqual([65535]);
    expect([...tensors.i8.dataSync()]).toEqual([-128, 127]);
    expect(tensors.u8.shape).toEqual([1, 1]);
    expect([...tensors.u8.dataSync()]).toEqual([255]);
    tf.dispose(tensors);
  });

  it('accepts an empty file body and a null __metadata__', () => {
    expect(parseSafetensors(buildFile('{}'))).toEqual({ tensors: {}, metadata: {} });
    expect(parseSafetensors(buildFile('{"__metadata__":null}')).metadata).toEqual({});
  });

  it('reads from a view into a larger buffer (as Node Buffers often are)', () => {
    const file = buildFile('{"x":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}', leBytes([42], 4, 'int'));
    const padded = new Uint8Array(file.length + 5);
    padded.set(file, 3);
    const { tensors } = parseSafetensors(padded.subarray(3, 3 + file.length));
    expect(tensors.x.shape).toEqual([]);
    expect(tensors.x.dataSync()[0]).toBe(42);
    tf.dispose(tensors);
  });
});

describe('serializeSafetensors', () => {
  it('produces exactly the bytes the spec prescribes', () => {
    const tensors = {
      w: tf.tensor1d([1, -2], 'float32'),
      n: tf.scalar(7, 'int32'),
      m: tf.tensor1d([true, false, true], 'bool'),
    };
    const bytes = serializeSafetensors(tensors, { format: 'pt' });
    tf.dispose(tensors);

    // Metadata first; 4-byte tensors before 1-byte ones (then by name), so every tensor stays aligned.
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"n":{"dtype":"I32","shape":[],"data_offsets":[0,4]},' +
      '"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},' +
      '"m":{"dtype":"BOOL","shape":[3],"data_offsets":[12,15]}}';
    expect(json.length).toBe(194);
    const header = json + '      '; // padded with 6 spaces to 200, a multiple of 8
    const expected = [
      ...[200, 0, 0, 0, 0, 0, 0, 0],
      ...[...header].map((c) => c.charCodeAt(0)),
      ...[0x07, 0x00, 0x00, 0x00], // n = 7 (int32 LE)
      ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0], // w = [1, -2] (float32 LE)
      ...[0x01, 0x00, 0x01], // m = [true, false, true]
    ];
    expect([...bytes]).toEqual(expected);
  });

  it('omits empty metadata and sorts same-size tensors by name', () => {
    const tensors = { b: tf.scalar(1), a: tf.scalar(2) };
    const bytes = serializeSafetensors(tensors, {});
    tf.dispose(tensors);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header.trimEnd()).toBe(
      '{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
        '"b":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}',
    );
    expect(headerLength % 8).toBe(0);
  });

  it('round-trips through parseSafetensors, unicode names and metadata included', () => {
    const tensors = {
      'layer.0/wé': tf.tensor2d([[1.5, -0.25, 3e-40]], [1, 3]),
      mask: tf.tensor([true, false], [2, 1], 'bool'),
      empty: tf.zeros([0, 4], 'int32'),
    };
    const metadata = { config: JSON.stringify({ experts: 4 }), ключ: 'значение' };
    const bytes = serializeSafetensors(tensors, metadata);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ config: '{"experts":4}', ключ: 'значение' });
    for (const [name, t] of Object.entries(tensors)) {
      expect(parsed.tensors[name].dtype).toBe(t.dtype);
      expect(parsed.tensors[name].shape).toEqual(t.shape);
      expect([...parsed.tensors[name].dataSync()]).toEqual([...t.dataSync()]);
    }
    tf.dispose([tensors, parsed.tensors]);
  });

  it('rejects metadata values that are not strings, naming the key', () => {
    const t = { x: tf.scalar(1) };
    const bad = { ok: 'yes', steps: 3 } as unknown as Record<string, string>;
    expect(() => serializeSafetensors(t, bad)).toThrow(
      /metadata value for key "steps" must be a string, got number/,
    );
    tf.dispose(t);
  });

  it('rejects dtypes it cannot store, the reserved name and disposed tensors', () => {
    const c = tf.complex([1], [2]);
    expect(() => serializeSafetensors({ c })).toThrow(/tensor "c" has dtype complex64/);
    const x = tf.scalar(1);
    expect(() => serializeSafetensors({ __metadata__: x })).toThrow(/"__metadata__" is reserved/);
    tf.dispose([c, x]);
    expect(() => serializeSafetensors({ x })).toThrow(/tensor "x" is disposed/);
  });
});

describe('tensor bookkeeping', () => {
  it('parse and serialize leak no tensors', async () => {
    const inputs = {
      a: tf.randomNormal([3, 4]),
      b: tf.tensor1d([1, 2], 'int32'),
      c: tf.tensor1d([true], 'bool'),
    };
    const bytes = serializeSafetensors(inputs, { k: 'v' });
    await expectNoLeakedTensors(() => parseSafetensors(bytes).tensors);
    await expectNoLeakedTensors(() => {
      serializeSafetensors(inputs);
    });
    tf.dispose(inputs);
  });

  it('creates no tensors when a late tensor fails validation', () => {
    const good = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    const bad = '"z":{"dtype":"I64","shape":[1],"data_offsets":[4,12]}';
    const bytes = buildFile(`{${good},${bad}}`, [
      ...leBytes([1], 4, 'float'),
      ...leBytes([2n ** 40n], 8, 'int'),
    ]);
    const before = tf.memory().numTensors;
    expect(() => parseSafetensors(bytes)).toThrow(/<buffer>: tensor "z" \(I64\) holds 1099511627776/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
