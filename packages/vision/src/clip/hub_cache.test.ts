import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, expect, it } from 'vitest';
import { loadTransformersClip } from './transformers_clip.js';
import { FIXTURE_DIR, expectedTextEmbedding, tempDir } from './tiny_clip.test.helpers.js';

const cacheDir = tempDir('prefilled-cache');
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

// Its own file (so its own process): transformers.js memoises file lookups per process, and this must be
// the first lookup of the repo, as it is for a user who downloaded the model in an earlier run.
it('loads a hub id from a prefilled cacheDir with localOnly and no network', async () => {
  cpSync(FIXTURE_DIR, path.join(cacheDir, 'moevl-test', 'cached-clip'), { recursive: true });
  const calls: string[] = [];
  const savedFetch = env.fetch;
  env.fetch = async (url: string | URL) => {
    calls.push(String(url));
    throw new TypeError('fetch failed');
  };
  try {
    const model = await loadTransformersClip('moevl-test/cached-clip', { cacheDir, localOnly: true });
    const emb = await model.embedTexts(['cyan']);
    const expected = expectedTextEmbedding('cyan');
    emb.arraySync()[0].forEach((x, j) => expect(x).toBeCloseTo(expected[j], 5));
    emb.dispose();
    await model.dispose();
  } finally {
    env.fetch = savedFetch;
  }
  expect(calls).toEqual([]);
});
