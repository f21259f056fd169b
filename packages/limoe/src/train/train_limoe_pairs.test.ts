import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlLog, useBackend } from '@moevl/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePairsRoutingFigures, writeTrainingCurves } from '../analysis/training_figures.js';
import { resolveLIMoEModelConfig } from '../configs/model_configs.js';
import { loadLIMoE, saveLIMoE } from '../io/limoe_checkpoint.js';
import { LIMoEImageTextModel } from '../io/limoe_image_text_model.js';
import { BpeTokenizer } from '../tokenizer/bpe_tokenizer.js';
import { trainLIMoEOnPairs } from './train_limoe_pairs.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-limoe-pairs-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 200, 40],
  blue: [30, 40, 220],
  yellow: [220, 210, 30],
};

/** A CSV (open_clip's tab-separated filepath/title) of 24 RGB squares with colour captions, and a model config. */
beforeAll(async () => {
  useBackend('wasm');
  await mkdir(join(dir, 'img'));
  const rows = ['filepath\ttitle'];
  const names = Object.keys(COLOURS);
  for (let i = 0; i < 24; i++) {
    const name = names[i % 4];
    const [r, g, b] = COLOURS[name];
    const px = Buffer.alloc(20 * 20 * 3);
    for (let p = 0; p < 400; p++)
      px.set(
        [r, g, b].map((v) => Math.max(0, Math.min(255, v + ((p * 37 + i * 11) % 41) - 20))),
        p * 3,
      );
    await sharp(px, { raw: { width: 20, height: 20, channels: 3 } })
      .png()
      .toFile(join(dir, 'img', `${i}.png`));
    rows.push(`img/${i}.png\ta photo of a ${name} square`);
  }
  await writeFile(join(dir, 'train.tsv'), rows.join('\n') + '\n');
  await writeFile(join(dir, 'val.tsv'), rows.slice(0, 9).join('\n') + '\n');
  const tiny = {
    description: 'test: 16 px, 2 blocks of 32, 4 experts in block 1',
    model: {
      ...{ imageSize: 16, channels: 3, patchSize: 8, dim: 32, depth: 2, numHeads: 2, mlpRatio: 2 },
      ...{ embedDim: 16, contextLength: 12, towers: 'single' },
      moe: { numExperts: 4, every: 2, router: { name: 'top-k', options: { k: 1, batchPriority: true } } },
    },
    tokenizer: { type: 'bpe', vocabSize: 96 },
  };
  await writeFile(join(dir, 'tiny.json'), JSON.stringify(tiny));
});

const base = () => ({
  modelConfig: resolveLIMoEModelConfig(join(dir, 'tiny.json')),
  train: { path: join(dir, 'train.tsv') },
  batchSize: 8,
  steps: 6,
  seed: 3,
  peakLr: 1e-3,
  progress: false,
  workers: 1,
});

describe('trainLIMoEOnPairs', () => {
  it('trains on RGB pairs, validates with retrieval metrics, and saves a model that embeds', async () => {
    const run = join(dir, 'run');
    const notes: string[] = [];
    const r = await trainLIMoEOnPairs({
      ...base(),
      val: { path: join(dir, 'val.tsv') },
      valEvery: 3,
      dir: join(run, 'checkpoints'),
      onLog: (m) => notes.push(m),
    });
    expect(r.totalSteps).toBe(6);
    expect(r.tokenizer).toBeInstanceOf(BpeTokenizer); // learned from the training captions
    expect(r.validation).toMatchObject({ pairs: 8 });
    for (const k of [
      'loss',
      'image_to_text_R@1',
      'text_to_image_mean_rank',
      'image_to_text_median_rank',
    ] as const)
      expect(Number.isFinite(r.validation![k]), k).toBe(true);
    const log = await JsonlLog.read(join(run, 'checkpoints', 'log.jsonl'));
    expect(log.filter((l) => 'val_loss' in l).map((l) => l.step)).toEqual([3, 6]);
    expect(log[5]).toHaveProperty('val_text_to_image_R@10');
    expect(log[0].routingSuccessText).toBeGreaterThan(0);
    expect(notes.some((n) => /step 6: val loss \d/.test(n))).toBe(true);

    const file = join(run, 'model.safetensors');
    await saveLIMoE(file, r.model, r.tokenizer, r.metadata);
    const back = await loadLIMoE(file);
    expect(back.model.config).toEqual(r.model.config);
    const itm = new LIMoEImageTextModel(back.model, back.tokenizer, back.metadata);
    expect(itm.preprocess.mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    const e = await itm.embedTexts(['a photo of a red square']);
    expect(e.shape).toEqual([1, 16]);
    e.dispose();

    const curves = await writeTrainingCurves(run, join(run, 'checkpoints', 'log.jsonl'), 'tiny');
    expect((await readFile(curves[0], 'utf8')).match(/<polyline /g)?.length).toBeGreaterThanOrEqual(4);
    const preprocess = { size: 16, cropSize: 16, channels: 3 as const };
    const routing = await writePairsRoutingFigures(run, r.model, r.tokenizer, {
      path: join(dir, 'val.tsv'),
      preprocess,
    });
    expect(routing.map((p) => p.slice(run.length + 1))).toEqual([
      'routing.json',
      'routing-block1.svg',
      'routing-block1.png',
    ]);
    r.model.dispose();
    itm.dispose();
  });

  it('stopped after step 3 and resumed, ends with the weights of the uninterrupted run, bit for bit', async () => {
    const full = await trainLIMoEOnPairs({ ...base(), dir: join(dir, 'full') });
    const first = await trainLIMoEOnPairs({
      ...base(),
      dir: join(dir, 'part'),
      checkpointEvery: 1,
      stopAfter: 3,
    });
    first.model.dispose();
    const rest = await trainLIMoEOnPairs({ ...base(), dir: join(dir, 'part'), resume: true });
    expect(rest.run.resumedFrom?.step).toBe(3);
    expect(rest.run.records.map((x) => x.loss)).toEqual(full.run.records.slice(3).map((x) => x.loss));
    const [a, b] = [full.model.namedWeights(), rest.model.namedWeights()];
    for (const k of Object.keys(a))
      expect(Array.from(b[k].dataSync()), k).toEqual(Array.from(a[k].dataSync()));
    full.model.dispose();
    rest.model.dispose();
  });

  it('says what is wrong with the options before any work', async () => {
    await expect(trainLIMoEOnPairs({ ...base(), epochs: 1 })).rejects.toThrow(
      /steps or as epochs \(one of them\)/,
    );
    const dense = resolveLIMoEModelConfig('dense-ti-16');
    await expect(
      trainLIMoEOnPairs({ ...base(), modelConfig: dense, router: { name: 'top-k', options: {} } }),
    ).rejects.toThrow(/dense-ti-16 is a dense model \(moe: null\): a router needs a model with MoE layers/);
  });
});
