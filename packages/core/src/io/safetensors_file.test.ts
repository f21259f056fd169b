import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, SafetensorsError, writeSafetensors } from './index.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'moevl-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeSafetensors / readSafetensors', () => {
  it('round-trips F32, I32 and BOOL tensors with metadata through a real file', async () => {
    const path = join(dir, 'model.safetensors');
    const config = { hiddenSize: 8, numExperts: 4 };
    const tensors = {
      'experts.0.w': tf.tensor2d([
        [0.1, -0.2, 3.5],
        [1e-30, 6e37, -0],
      ]),
      'router.ids': tf.tensor3d([1, -2, 2147483647, -2147483648], [1, 2, 2], 'int32'),
      mask: tf.tensor1d([true, false, false, true], 'bool'),
    };
    await writeSafetensors(path, tensors, { config: JSON.stringify(config), format: 'pt' });
    expect(await readdir(dir)).toEqual(['model.safetensors']);

    const loaded = await readSafetensors(path);
    expect(loaded.metadata).toEqual({ config: JSON.stringify(config), format: 'pt' });
    expect(JSON.parse(loaded.metadata.config)).toEqual(config);
    expect(Object.keys(loaded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = loaded.tensors[name];
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect([...got.dataSync()]).toEqual([...t.dataSync()]);
    }
    tf.dispose([tensors, loaded.tensors]);
  });

  it('round-trips scalars and zero-size tensors', async () => {
    const path = join(dir, 'edge.safetensors');
    const tensors = {
      scalar: tf.scalar(-7.25),
      intScalar: tf.scalar(3, 'int32'),
      boolScalar: tf.scalar(true, 'bool'),
      empty: tf.zeros([0, 3]),
      emptyInt: tf.zeros([2, 0], 'int32'),
      emptyBool: tf.zeros([0], 'bool'),
    };
    await writeSafetensors(path, tensors);
    const loaded = await readSafetensors(path);
    expect(loaded.metadata).toEqual({});
    for (const [name, t] of Object.entries(tensors)) {
      expect(loaded.tensors[name].dtype).toBe(t.dtype);
      expect(loaded.tensors[name].shape).toEqual(t.shape);
      expect([...loaded.tensors[name].dataSync()]).toEqual([...t.dataSync()]);
    }
    tf.dispose([tensors, loaded.tensors]);
  });

  it('replaces an existing checkpoint atomically', async () => {
    const path = join(dir, 'replace.safetensors');
    const big = { w: tf.ones([100, 100]) };
    const small = { w: tf.scalar(1) };
    await writeSafetensors(path, big);
    await writeSafetensors(path, small);
    expect((await readFile(path)).length).toBeLessThan(200);
    const loaded = await readSafetensors(path);
    expect(loaded.tensors.w.shape).toEqual([]);
    tf.dispose([big, small, loaded.tensors]);
  });

  it('names the path when the file is missing', async () => {
    const path = join(dir, 'nope.safetensors');
    const err = await readSafetensors(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toBe(`${path}: no such file`);
  });

  it('names the path when it is a directory', async () => {
    await expect(readSafetensors(dir)).rejects.toThrow(`${dir}: is a directory`);
  });
});
