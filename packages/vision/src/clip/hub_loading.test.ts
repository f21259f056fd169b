import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { env } from '@huggingface/transformers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTransformersClip } from './transformers_clip.js';
import { FIXTURE_DIR, expectedTextEmbedding, tempDir } from './tiny_clip.test.helpers.js';

const REPO = 'moevl-test/tiny-clip';

/**
 * A stand-in for the Hugging Face Hub served from the fixture folder through transformers.js's
 * `env.fetch`, so the hub-id code path (downloads, range requests, the file cache) runs with no network.
 */
function fakeHub(calls: string[], files: Set<string> | null = null) {
  const prefix = `https://huggingface.co/${REPO}/resolve/main/`;
  return async (input: string | URL, init?: { headers?: Headers }): Promise<Response> => {
    const url = String(input);
    calls.push(url);
    const name = url.startsWith(prefix) ? decodeURIComponent(url.slice(prefix.length)) : '';
    const file = path.join(FIXTURE_DIR, name);
    if (!name || (files && !files.has(name)) || !existsSync(file)) return new Response('', { status: 404 });
    const body = readFileSync(file);
    if (init?.headers?.get('Range') === 'bytes=0-0') {
      return new Response(body.subarray(0, 1), {
        status: 206,
        headers: { 'content-range': `bytes 0-0/${body.length}`, 'content-length': '1' },
      });
    }
    return new Response(body, { status: 200, headers: { 'content-length': String(body.length) } });
  };
}

describe('loading a hub id (through a fake hub)', () => {
  let cacheDir: string;
  const savedFetch = env.fetch;
  const savedRemote = env.allowRemoteModels;
  beforeAll(() => {
    cacheDir = tempDir('hub-cache');
  });
  afterEach(() => {
    env.fetch = savedFetch;
    env.allowRemoteModels = savedRemote;
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('downloads into cacheDir, then loads from the cache alone with localOnly', async () => {
    const calls: string[] = [];
    env.allowRemoteModels = true;
    env.fetch = fakeHub(calls);
    const online = await loadTransformersClip(REPO, { cacheDir, dtype: 'q8' });
    expect(online.name).toBe(REPO);
    expect(online.embeddingDim).toBe(8);
    const a = await online.embedTexts(['a photo of green']);
    await online.dispose();
    expect(calls.some((u) => u.endsWith('onnx/text_model_quantized.onnx'))).toBe(true);
    expect(existsSync(path.join(cacheDir, REPO, 'onnx', 'vision_model_quantized.onnx'))).toBe(true);

    const offlineCalls: string[] = [];
    env.fetch = async (url: string | URL) => {
      offlineCalls.push(String(url));
      throw new TypeError('fetch failed');
    };
    const cached = await loadTransformersClip(REPO, { cacheDir, dtype: 'q8', localOnly: true });
    const b = await cached.embedTexts(['a photo of green']);
    await cached.dispose();
    expect(offlineCalls).toEqual([]);
    const expected = expectedTextEmbedding('a photo of green');
    for (const t of [a, b]) t.arraySync()[0].forEach((x, j) => expect(x).toBeCloseTo(expected[j], 1));
    tf.dispose([a, b]);
  });

  it('uses the combined graph when the hub repo has only model.onnx', async () => {
    const calls: string[] = [];
    const files = new Set([
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'preprocessor_config.json',
    ]);
    files.add('onnx/model.onnx');
    env.allowRemoteModels = true;
    env.fetch = fakeHub(calls, files);
    const model = await loadTransformersClip(REPO, { cacheDir: tempDir('hub-combined') });
    const emb = await model.embedTexts(['bright']);
    expect(emb.arraySync()[0][3]).toBeCloseTo(expectedTextEmbedding('bright')[3], 5);
    emb.dispose();
    await model.dispose();
    expect(calls.some((u) => u.endsWith('onnx/text_model.onnx'))).toBe(true); // probed, absent
    expect(calls.filter((u) => u.endsWith('onnx/model.onnx')).length).toBeGreaterThan(0);
  });
});
