import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IMAGENET_NUM_CLASSES,
  imagenetClassNames,
  imagenetDataPath,
  imagenetDataUrl,
  imagenetTemplates,
  imagenetWnids,
  type ImagenetTemplateSet,
} from './imagenet_metadata.js';
import { isDatasetError } from './dataset_error.js';

// The package root, from this test file: src/data/ → ../../
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('ImageNet metadata (open_clip / CLIP_benchmark class names and templates)', () => {
  it('resolves the data folder from both src/ (vitest) and dist/ (installed) layouts', () => {
    const expected = join(packageRoot, 'data', 'imagenet', 'wnids.txt');
    const fromSrc = pathToFileURL(join(packageRoot, 'src', 'data', 'imagenet_metadata.ts')).href;
    const fromDist = pathToFileURL(join(packageRoot, 'dist', 'data', 'imagenet_metadata.js')).href;
    expect(fileURLToPath(imagenetDataUrl('wnids.txt', fromSrc))).toBe(expected);
    expect(fileURLToPath(imagenetDataUrl('wnids.txt', fromDist))).toBe(expected);
    expect(imagenetDataPath('wnids.txt')).toBe(expected);
    expect(existsSync(expected)).toBe(true);
  });

  it('has 1000 class names, 998 unique, with the duplicates kept where every published number has them', () => {
    const names = imagenetClassNames();
    expect(names).toHaveLength(IMAGENET_NUM_CLASSES);
    expect(new Set(names).size).toBe(998);
    expect(names[0]).toBe('tench');
    expect(names[657]).toBe('missile');
    expect(names[744]).toBe('missile');
    expect(names[836]).toBe('sunglasses');
    expect(names[837]).toBe('sunglasses');
  });

  it('has the 1000 synset ids in sorted order, n01440764 first', () => {
    const wnids = imagenetWnids();
    expect(wnids).toHaveLength(1000);
    expect(wnids[0]).toBe('n01440764');
    expect(wnids[999]).toBe('n15075141');
    expect([...wnids].sort()).toEqual(wnids);
  });

  it('has the 80 OpenAI templates and the 7-template subset, each with a {} placeholder', () => {
    const t80 = imagenetTemplates('openai80');
    const t7 = imagenetTemplates('simple7');
    expect(t80).toHaveLength(80);
    expect(t7).toHaveLength(7);
    for (const t of [...t80, ...t7]) expect(t).toContain('{}');
    expect(t7).toContain('itap of a {}.');
    expect(t7.every((t) => t80.includes(t))).toBe(true);
  });

  it('returns copies, so callers cannot corrupt the cache', () => {
    const names = imagenetClassNames();
    names[0] = 'changed';
    imagenetTemplates('simple7').pop();
    expect(imagenetClassNames()[0]).toBe('tench');
    expect(imagenetTemplates('simple7')).toHaveLength(7);
  });

  it('refuses an unknown template set with the available names', () => {
    let error: unknown;
    try {
      imagenetTemplates('openai81' as ImagenetTemplateSet);
    } catch (e) {
      error = e;
    }
    expect(isDatasetError(error)).toBe(true);
    expect((error as Error).message).toMatch(/openai81.*openai80, simple7/);
  });
});
