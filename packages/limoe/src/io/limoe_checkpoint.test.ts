import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '@moevl/core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveBuiltinModel } from './builtin.js';
import { loadLIMoE } from './limoe_checkpoint.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-limoe-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The shipped model file with its metadata or tensors changed by `edit`. */
async function variant(
  name: string,
  edit: (tensors: Record<string, tf.Tensor>, metadata: Record<string, string>) => void,
): Promise<string> {
  const { tensors, metadata } = await readSafetensors(resolveBuiltinModel('limoe-fashion-mnist').path);
  edit(tensors, metadata);
  const path = join(dir, name);
  await writeSafetensors(path, tensors, metadata);
  tf.dispose(Object.values(tensors));
  return path;
}

describe('hostile LIMoE model files are refused at load, naming the file, leaking nothing', () => {
  it('a file without the image normalisation', async () => {
    const path = await variant('no-norm.safetensors', (_, m) => {
      m.metadata = JSON.stringify({ trainedOn: 'x' });
    });
    await expect(loadLIMoE(path)).rejects.toThrow(
      `${path}: the model file has no valid image normalisation (imageMean undefined, imageStd undefined in its metadata)`,
    );
  });

  it('a config that does not validate, and weights that do not fit the config', async () => {
    const badConfig = await variant('bad-config.safetensors', (_, m) => {
      m.config = JSON.stringify({ ...JSON.parse(m.config), dim: 130 });
    });
    await expect(loadLIMoE(badConfig)).rejects.toThrow(
      `${badConfig}: LIMoE config: dim 130 must be divisible by numHeads 4`,
    );
    const wrongShape = await variant('wrong-shape.safetensors', (t) => {
      t['image_projection/kernel'].dispose();
      t['image_projection/kernel'] = tf.zeros([128, 64]);
    });
    const before = tf.memory().numTensors;
    await expect(loadLIMoE(wrongShape)).rejects.toThrow(
      /Cannot load weight "image_projection\/kernel".*shape \[128,64\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
