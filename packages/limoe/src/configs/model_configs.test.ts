import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moeBlockIndices } from '@moevl/vision';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateLIMoEParameters } from '../model/config.js';
import { limoeFamily } from '../io/limoe_family.js';
import { ModelConfigError } from './model_config_error.js';
import { listLIMoEModelConfigs, resolveLIMoEModelConfig } from './model_configs.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-configs-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const PRESETS = ['limoe', 'dense', 'two-tower'].flatMap((k) =>
  ['ti-16', 's-16', 'b-16'].map((s) => `${k}-${s}`),
);

describe('model configs as files', () => {
  it('ships LIMoE, dense and two-tower at Ti/16, S/16, B/16, and a CPU config; the limoe family lists them', () => {
    const names = listLIMoEModelConfigs().map((c) => c.name);
    expect(names).toEqual([...PRESETS, 'limoe-cpu-tiny'].sort());
    expect(limoeFamily.configs?.().map((c) => c.name)).toEqual(names);
    for (const c of listLIMoEModelConfigs()) expect(c.description.length).toBeGreaterThan(40);
  });

  it("has the paper's shapes: ViT widths, depth 12, 8 experts in every other block, top-1, BPR, cf 1.05", () => {
    const shapes = { 'ti-16': [192, 3], 's-16': [384, 6], 'b-16': [768, 12] } as const;
    for (const [size, [dim, heads]] of Object.entries(shapes)) {
      for (const kind of ['limoe', 'dense', 'two-tower']) {
        const c = resolveLIMoEModelConfig(`${kind}-${size}`);
        expect(c.model).toMatchObject({
          imageSize: 224,
          channels: 3,
          patchSize: 16,
          dim,
          depth: 12,
          numHeads: heads,
        });
        expect(c.model).toMatchObject({
          mlpRatio: 4,
          contextLength: 77,
          towers: kind === 'two-tower' ? 'two' : 'single',
        });
        expect(c.tokenizer).toEqual({ type: 'clip', name: 'clip-bpe-16e6', path: undefined });
        expect(c.model.moe === null).toBe(kind !== 'limoe');
      }
      const limoe = resolveLIMoEModelConfig(`limoe-${size}`).model;
      expect(moeBlockIndices(12, limoe.moe!)).toEqual([1, 3, 5, 7, 9, 11]);
      expect(limoe.moe!.numExperts).toBe(8);
      expect(limoe.moe!.router).toMatchObject({
        name: 'top-k',
        options: { k: 1, batchPriority: true, capacityFactor: 1.05 },
      });
    }
    // ViT-B/16 is 85.8M parameters as an image encoder; the single tower adds the text stem and heads.
    const b16 = resolveLIMoEModelConfig('dense-b-16').model;
    const params = estimateLIMoEParameters({ ...b16, vocabSize: 49408, seed: 0 });
    expect(params / 1e6).toBeGreaterThan(85.8 + (49408 * 768) / 1e6);
    expect(params / 1e6).toBeLessThan(85.8 + (49408 * 768) / 1e6 + 1);
    const tiny = resolveLIMoEModelConfig('limoe-cpu-tiny').model;
    expect(tiny).toMatchObject({ dim: 128, depth: 4, imageSize: 64, patchSize: 8, contextLength: 32 });
  });

  it('an unknown name says which preset it is closest to, and lists them all', () => {
    expect(() => resolveLIMoEModelConfig('limoe-ti16')).toThrow(
      /^Unknown model config "limoe-ti16" \(did you mean "limoe-ti-16"\?\); the presets are dense-b-16, .*limoe-cpu-tiny.*, or pass the path of a JSON config file\.$/,
    );
    try {
      resolveLIMoEModelConfig('nope');
    } catch (err) {
      expect(ModelConfigError.isInstance(err)).toBe(true);
      expect((err as ModelConfigError).available).toContain('limoe-b-16');
    }
  });

  it('reads a config file by path, and names the file and the field of anything wrong in one sentence', async () => {
    const good = JSON.parse(JSON.stringify(resolveLIMoEModelConfig('limoe-cpu-tiny')));
    const base = { description: 'mine', model: good.model, tokenizer: { type: 'bpe', vocabSize: 512 } };
    const file = join(dir, 'mine.json');
    await writeFile(file, JSON.stringify(base));
    const mine = resolveLIMoEModelConfig(file);
    expect(mine).toMatchObject({
      name: file,
      description: 'mine',
      tokenizer: { type: 'bpe', vocabSize: 512 },
    });
    expect(mine.image.mean).toEqual([0.48145466, 0.4578275, 0.40821073]); // CLIP's, by default

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases break the file on purpose
    const cases: Array<[string, (c: any) => void, RegExp]> = [
      ['dim', (c) => (c.model.dim = 'x'), /field model\.dim must be a positive integer, got "x"\.$/],
      [
        'extra',
        (c) => (c.model.width = 3),
        /unknown field model\.width; the fields of model are imageSize, /,
      ],
      ['heads', (c) => (c.model.numHeads = 3), /field model\.dim 128 must be divisible by numHeads 3\.$/],
      [
        'channels',
        (c) => (c.model.channels = 2),
        /field model\.channels must be 3 \(RGB\) or 1 \(grayscale\), got 2\./,
      ],
      [
        'experts',
        (c) => (c.model.moe.numExperts = 0),
        /field model\.moe\.numExperts must be a positive integer, got 0\./,
      ],
      [
        'moe',
        (c) => delete c.model.moe,
        /field model\.moe must be null \(dense\) or an object .*, got nothing\./,
      ],
      [
        'tok',
        (c) => (c.tokenizer = { type: 'wordpiece' }),
        /field tokenizer\.type must be "clip" or "bpe", got "wordpiece"\./,
      ],
      [
        'std',
        (c) => (c.image = { mean: [0, 0, 0], std: [1, 0, 1] }),
        /field image\.std must be 3 numbers in a list, each > 0, got \[1,0,1\]\./,
      ],
      [
        'top',
        (c) => (c.modle = {}),
        /unknown field modle; the fields are description, model, tokenizer, image\./,
      ],
    ];
    for (const [name, edit, message] of cases) {
      const c = structuredClone(base);
      edit(c);
      const path = join(dir, `${name}.json`);
      await writeFile(path, JSON.stringify(c));
      let caught: unknown;
      try {
        resolveLIMoEModelConfig(path);
      } catch (err) {
        caught = err;
      }
      expect(ModelConfigError.isInstance(caught), name).toBe(true);
      expect((caught as Error).message.startsWith(`${path}: `), name).toBe(true);
      expect((caught as Error).message, name).toMatch(message);
    }
    await writeFile(join(dir, 'broken.json'), '{"model": ');
    expect(() => resolveLIMoEModelConfig(join(dir, 'broken.json'))).toThrow(/broken\.json is not valid JSON/);
    expect(() => resolveLIMoEModelConfig(join(dir, 'absent.json'))).toThrow(
      /The model config .*absent\.json does not exist; check the path, or name a preset/,
    );
  });
});
