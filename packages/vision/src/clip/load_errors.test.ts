import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClipLoadError } from './clip_load_error.js';
import { isNetworkError } from './clip_load_error.js';
import { resolveClipSource } from './model_source.js';
import { loadTransformersClip } from './transformers_clip.js';
import { FIXTURE_DIR, tempDir } from './tiny_clip.test.helpers.js';

/** A copy of the fixture to break; `remove` lists files to delete from it. */
function brokenCopy(root: string, name: string, remove: string[] = []): string {
  const dir = path.join(root, name);
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  for (const f of remove) rmSync(path.join(dir, f));
  return dir;
}

async function loadError(...args: Parameters<typeof loadTransformersClip>): Promise<ClipLoadError> {
  const e = await loadTransformersClip(...args).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ClipLoadError);
  return e as ClipLoadError;
}

describe('loadTransformersClip errors', () => {
  let root: string;
  const savedFetch = env.fetch;
  const savedRemote = env.allowRemoteModels;
  beforeAll(() => {
    root = tempDir('errors');
  });
  afterEach(() => {
    env.fetch = savedFetch;
    env.allowRemoteModels = savedRemote;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('names the file when the text and vision graphs are swapped', async () => {
    const dir = brokenCopy(root, 'swapped');
    const [text, vision] = ['onnx/text_model.onnx', 'onnx/vision_model.onnx'].map((f) => path.join(dir, f));
    cpSync(text, `${text}.tmp`);
    cpSync(vision, text);
    cpSync(`${text}.tmp`, vision);
    rmSync(`${text}.tmp`);
    const e = await loadError(dir, { combined: false });
    expect(e.message).toBe(
      `${dir}/onnx/text_model.onnx takes the inputs pixel_values, not input_ids; the text and vision graphs ` +
        'look swapped — check which file is which.',
    );
  });

  it('names a missing folder', async () => {
    const missing = path.join(root, 'no-such-model');
    const e = await loadError(missing);
    expect(e.message).toMatch(/Model folder not found: .*no-such-model/);
    expect(e.path).toBe(missing);
    await expect(loadTransformersClip('./also/not/here')).rejects.toThrow(/Model folder not found/);
  });

  it('lists every missing ONNX file and the dtypes the folder does have', async () => {
    const dir = brokenCopy(root, 'no-vision', ['onnx/vision_model.onnx', 'onnx/model.onnx']);
    const e = await loadError(dir);
    expect(e.message).toContain('is missing onnx/vision_model.onnx, onnx/model.onnx');
    expect(e.message).toContain('either onnx/text_model.onnx + onnx/vision_model.onnx or onnx/model.onnx');
    expect(e.path).toBe(dir);
    // The quantised files are still there, so q8 loads.
    const q8 = await loadTransformersClip(dir, { dtype: 'q8' });
    await q8.dispose();

    const fp16 = await loadError(FIXTURE_DIR, { dtype: 'fp16' });
    expect(fp16.message).toContain('onnx/text_model_fp16.onnx');
    expect(fp16.message).toContain('dtypes available: fp32, q8');
  });

  it('falls back to the combined graph, and honours combined: false', async () => {
    const dir = brokenCopy(root, 'combined-only', ['onnx/text_model.onnx', 'onnx/vision_model.onnx']);
    const model = await loadTransformersClip(dir);
    expect((await model.embedTexts(['red'])).shape).toEqual([1, 8]);
    await model.dispose();
    const e = await loadError(dir, { combined: false });
    expect(e.message).toContain('is missing onnx/text_model.onnx, onnx/vision_model.onnx');
  });

  it('names missing metadata files and unreadable JSON', async () => {
    const dir = brokenCopy(root, 'no-tokenizer', ['tokenizer.json', 'preprocessor_config.json']);
    const e = await loadError(dir);
    expect(e.message).toContain('is missing tokenizer.json, preprocessor_config.json');

    const bad = brokenCopy(root, 'bad-config');
    writeFileSync(path.join(bad, 'config.json'), '{ "model_type": "clip", ');
    const b = await loadError(bad);
    expect(b.message).toMatch(/bad-config\/config\.json is not valid JSON/);
    expect(b.path).toBe(path.join(bad, 'config.json'));

    const badPre = brokenCopy(root, 'bad-preprocessor');
    writeFileSync(path.join(badPre, 'preprocessor_config.json'), '{ "size": "big", "crop_size": 32 }');
    const p = await loadError(badPre);
    expect(p.message).toMatch(/bad-preprocessor\/preprocessor_config\.json.*size must be/);
  });

  it('says a hub id cannot load while offline, and how to pass a local folder', async () => {
    const calls: string[] = [];
    env.allowRemoteModels = true;
    env.fetch = async (url: string | URL) => {
      calls.push(String(url));
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }),
      });
    };
    const e = await loadError('someone/clip-vit-tiny', { cacheDir: path.join(root, 'empty-cache') });
    expect(e.message).toMatch(/appears to be offline/);
    expect(e.message).toMatch(/local folder/);
    expect(e.path).toBe('someone/clip-vit-tiny');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((u) => u.startsWith('https://huggingface.co/someone/clip-vit-tiny/'))).toBe(true);
    expect(env.allowRemoteModels).toBe(true);
  });

  it('never fetches a hub id with localOnly (or with env.allowRemoteModels=false)', async () => {
    const calls: string[] = [];
    env.fetch = async (url: string | URL) => {
      calls.push(String(url));
      throw new Error('network access attempted');
    };
    const cacheDir = path.join(root, 'empty-cache');
    const e = await loadError('someone/clip-vit-tiny', { localOnly: true, cacheDir });
    expect(e.message).toContain(`from the local cache (${cacheDir})`);
    expect(e.message).toContain('Offline (--offline, or localOnly)');
    env.allowRemoteModels = false;
    await loadError('someone/clip-vit-tiny', { cacheDir });
    expect(calls).toEqual([]);
  });

  it('rejects bad options before touching anything', async () => {
    await expect(loadTransformersClip(FIXTURE_DIR, { batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(loadTransformersClip(FIXTURE_DIR, { dtype: 'int3' as never })).rejects.toThrow(
      /Unknown dtype/,
    );
    await expect(loadTransformersClip(FIXTURE_DIR, { logitScale: -1 })).rejects.toThrow(/logitScale/);
  });
});

describe('resolveClipSource', () => {
  it('prefers an existing folder, treats owner/name as a hub id, and paths as paths', () => {
    expect(resolveClipSource(FIXTURE_DIR)).toEqual({ kind: 'local', dir: FIXTURE_DIR });
    const rel = path.relative(process.cwd(), FIXTURE_DIR);
    expect(resolveClipSource(rel)).toEqual({ kind: 'local', dir: FIXTURE_DIR });
    expect(resolveClipSource('Xenova/clip-vit-base-patch32').kind).toBe('hub');
    expect(() => resolveClipSource('/models/missing')).toThrow(ClipLoadError);
    expect(() => resolveClipSource('a/b/c')).toThrow(/Model folder not found/);
    expect(() => resolveClipSource(path.join(FIXTURE_DIR, 'config.json'))).toThrow(/is a file/);
  });

  it('recognises offline errors through their cause chain', () => {
    const offline = new TypeError('fetch failed', { cause: { code: 'EAI_AGAIN' } });
    expect(isNetworkError(new Error('wrapped', { cause: offline }))).toBe(true);
    expect(isNetworkError(new Error('Could not locate file (404)'))).toBe(false);
  });
});
