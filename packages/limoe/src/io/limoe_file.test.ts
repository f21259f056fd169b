import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@moevl/core';
import { beforeAll, expect, it } from 'vitest';
import { resolveBuiltinModel } from './builtin.js';
import { loadLIMoE } from './limoe_checkpoint.js';
import { parseLIMoE } from './limoe_file.js';

beforeAll(() => useBackend('wasm'));

it('parseLIMoE reads the bytes of a model file into the model loadLIMoE reads from its path', async () => {
  const { path } = resolveBuiltinModel('limoe-fashion-mnist');
  const bytes = new Uint8Array(await readFile(path));
  const [a, b] = [await loadLIMoE(path), parseLIMoE(bytes, 'limoe-fashion-mnist.safetensors')];
  expect(b.metadata).toEqual(a.metadata);
  expect(b.tokenizer.toJSON()).toEqual(a.tokenizer.toJSON());
  const weights = [a.model.namedWeights(), b.model.namedWeights()];
  expect(Object.keys(weights[1])).toEqual(Object.keys(weights[0]));
  for (const [name, w] of Object.entries(weights[0])) {
    expect(Array.from(weights[1][name].dataSync()), name).toEqual(Array.from(w.dataSync()));
  }
  a.model.dispose();
  b.model.dispose();
});

it('names the source of damaged bytes and leaves no tensor behind', async () => {
  const bytes = new Uint8Array(await readFile(resolveBuiltinModel('limoe-fashion-mnist').path));
  const before = tf.memory().numTensors;
  expect(() => parseLIMoE(bytes.subarray(0, 100_000), 'https://example.test/m.safetensors')).toThrow(
    /^https:\/\/example\.test\/m\.safetensors: /,
  );
  expect(tf.memory().numTensors).toBe(before);
});
