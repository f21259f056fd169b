import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelFileHeader, useBackend } from '@moevl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLIMoEConfig } from '../model/config.js';
import { LIMoEModel } from '../model/limoe_model.js';
import { ClipTokenizer } from '../tokenizer/clip_tokenizer.js';
import { trainBpe } from '../tokenizer/train.js';
import type { TextTokenizer } from '../tokenizer/text_tokenizer.js';
import { loadLIMoE, saveLIMoE } from './limoe_checkpoint.js';
import { LIMoEImageTextModel } from './limoe_image_text_model.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-limoe-tok-'));
beforeAll(() => useBackend('wasm'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
const TEXTS = ['a photo of a cat.', 'A red double-decker bus in London, 2024!', 'café ☕'];

async function roundTrip(name: string, tokenizer: TextTokenizer, contextLength: number) {
  const config = defaultLIMoEConfig({
    imageSize: 16,
    channels: 3,
    patchSize: 8,
    dim: 16,
    depth: 2,
    numHeads: 2,
    embedDim: 8,
    vocabSize: tokenizer.vocabSize,
    contextLength,
  });
  const model = new LIMoEModel(config);
  const path = join(dir, `${name}.safetensors`);
  await saveLIMoE(path, model, tokenizer, { imageMean: CLIP_MEAN, imageStd: CLIP_STD });
  const loaded = await loadLIMoE(path);
  const a = new LIMoEImageTextModel(model, tokenizer, { imageMean: CLIP_MEAN, imageStd: CLIP_STD });
  const b = new LIMoEImageTextModel(loaded.model, loaded.tokenizer, loaded.metadata);
  return { a, b, path, loaded };
}

describe('the tokenizer is saved inside the model file and loads back to identical ids', () => {
  it("CLIP's BPE: stored by name and sha256 (a small header), context 77, RGB normalisation per channel", async () => {
    const { a, b, path, loaded } = await roundTrip('clip', ClipTokenizer.load(), 77);
    expect(loaded.tokenizer).toBeInstanceOf(ClipTokenizer);
    expect(b.tokenize(TEXTS)).toEqual(a.tokenize(TEXTS));
    expect(b.tokenize(TEXTS).ids[0]).toEqual([49406, 320, 1125, 539, 320, 2368, 269, 49407]);
    expect(b.preprocess.mean).toEqual(CLIP_MEAN);
    expect(b.preprocess.std).toEqual(CLIP_STD);
    const [ea, eb] = [await a.embedTexts(TEXTS), await b.embedTexts(TEXTS)];
    expect(Array.from(eb.dataSync())).toEqual(Array.from(ea.dataSync()));
    const stored = (await readModelFileHeader(path))!.metadata.tokenizer;
    expect(JSON.parse(stored)).toMatchObject({ type: 'hf-tokenizer', name: 'clip-bpe-16e6' });
    expect(stored.length).toBeLessThan(1000);
    tf.dispose([ea, eb]);
    a.dispose();
    b.dispose();
  });

  it("the project's BPE: stored whole, as before", async () => {
    const bpe = trainBpe(TEXTS, { vocabSize: 96 });
    const { a, b, loaded } = await roundTrip('bpe', bpe, 16);
    expect(loaded.tokenizer.toJSON()).toEqual(bpe.toJSON());
    expect(b.tokenize(TEXTS)).toEqual(a.tokenize(TEXTS));
    a.dispose();
    b.dispose();
  });
});
