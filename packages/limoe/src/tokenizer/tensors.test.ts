import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { trainBpe } from './train.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('toTensors gives int32 ids [N, L], float32 mask [N, L] and int32 eotIndex [N]', () => {
  const tok = trainBpe(['a photo of a cat', 'a photo of a dog'], { vocabSize: 100 });
  const texts = ['a photo of a cat', 'a dog'];
  const batch = tok.encodeBatch(texts, { contextLength: 10 });
  const before = tf.memory().numTensors;
  const t = tok.toTensors(texts, { contextLength: 10 });
  expect(t.ids.dtype).toBe('int32');
  expect(t.ids.shape).toEqual([2, 10]);
  expect(t.mask.dtype).toBe('float32');
  expect(t.mask.shape).toEqual([2, 10]);
  expect(t.eotIndex.dtype).toBe('int32');
  expect(t.eotIndex.shape).toEqual([2]);
  expect(Array.from(t.ids.dataSync())).toEqual(Array.from(batch.ids));
  expect(Array.from(t.mask.dataSync())).toEqual(Array.from(batch.mask));
  expect(Array.from(t.eotIndex.dataSync())).toEqual(Array.from(batch.eotIndex));
  tf.dispose([t.ids, t.mask, t.eotIndex]);
  expect(tf.memory().numTensors).toBe(before);
});
