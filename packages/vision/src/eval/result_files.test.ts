import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZeroShotEvalError } from './eval_error.js';
import { metricsFromPredictions } from '../zeroshot/metrics.js';
import type { ZeroShotEvalResult, ZeroShotPrediction } from './eval_result.js';
import { removeTempDirs, tempDir } from './eval.test.helpers.js';
import { csvField, writePredictionsCsv } from './predictions_csv.js';
import { readEvalResult, writeEvalResult } from './result_files.js';

afterAll(removeTempDirs);

const NAMES = ['tench', 'goldfish', 'great white shark, white shark', 'the "best" class', 'cock', 'hen'];

/** A small hand-made result: 3 predictions over 6 classes, one skipped file. */
function syntheticResult(topK = 2): ZeroShotEvalResult {
  const predictions: ZeroShotPrediction[] = [
    {
      index: 0,
      id: '/data/a.jpg',
      label: 0,
      rank: 0,
      top: [
        { class: 0, score: 31.25 },
        { class: 4, score: 30.123456 },
      ],
    },
    {
      index: 2,
      id: '/data/with,comma.jpg',
      label: 2,
      rank: 1,
      top: [
        { class: 3, score: 28.5 },
        { class: 2, score: 27 },
      ],
    },
    {
      index: 3,
      id: '/data/c.jpg',
      label: 5,
      rank: 4,
      top: [
        { class: 1, score: 20 },
        { class: 0, score: 19.99999 },
      ],
    },
  ].map((p) => ({ ...p, top: p.top.slice(0, topK) }));
  return {
    dataset: 'toy',
    model: 'tiny-clip',
    templates: 2,
    templatesName: 'simple2',
    classes: 6,
    metrics: metricsFromPredictions(predictions, 6, 6),
    counts: {
      items: 4,
      evaluated: 3,
      skipped: 1,
      skippedFiles: [{ id: '/data/b.jpg', message: 'corrupt', index: 1 }],
    },
    timing: {
      seconds: 1.5,
      imagesPerSecond: 2,
      classifierSeconds: 0.5,
      classifierCached: true,
      imageSeconds: 1,
    },
    predictions,
    topK,
    sampling: { datasetItems: 4, selected: 4, seed: 0 },
    hashes: { classNames: 'a'.repeat(64), templates: 'b'.repeat(64) },
    warnings: [],
  };
}

describe('result files', () => {
  it('round-trips a result through JSON, written atomically', async () => {
    const dir = await tempDir('result');
    const file = join(dir, 'nested', 'result.json');
    const result = syntheticResult();
    await writeEvalResult(file, result);
    expect(await readEvalResult(file)).toEqual(result);
    // Only the result itself is left: the atomic write's temp file was renamed over it.
    expect(await readdir(join(dir, 'nested'))).toEqual(['result.json']);
  });

  it.each([
    ['not JSON', '{"dataset": "toy", ', /not valid JSON/],
    ['an array', '[]', /the top level is not a JSON object/],
    ['no metrics', JSON.stringify({ ...syntheticResult(), metrics: undefined }), /"metrics" is missing/],
    [
      'a bad prediction',
      JSON.stringify({ ...syntheticResult(), predictions: [{ index: 0 }] }),
      /"predictions\[0\]" is not/,
    ],
    [
      'a NaN-like rate',
      JSON.stringify({ ...syntheticResult(), metrics: { ...syntheticResult().metrics, top1: 3 } }),
      /metrics.top1/,
    ],
    [
      'a shard source that is not a name',
      JSON.stringify({ ...syntheticResult(), shard: { index: 0, count: 2, source: 3 } }),
      /"shard.source" is not a string/,
    ],
  ])('names the file and the problem when it holds %s', async (_, text, problem) => {
    const file = join(await tempDir('malformed'), 'shard0.json');
    await writeFile(file, text);
    const reading = readEvalResult(file);
    await expect(reading).rejects.toBeInstanceOf(ZeroShotEvalError);
    await expect(reading).rejects.toMatchObject({ code: 'bad-result-file', file });
    await expect(reading).rejects.toThrow(problem);
    await expect(reading).rejects.toThrow(file);
  });

  it('keeps where a shard came from (--shard auto: slurm, kubernetes, …)', async () => {
    const file = join(await tempDir('source'), 'results-1.json');
    const result = { ...syntheticResult(), shard: { index: 1, count: 3, source: 'slurm' } };
    await writeEvalResult(file, result);
    expect((await readEvalResult(file)).shard).toEqual({ index: 1, count: 3, source: 'slurm' });
  });

  it('says when the file does not exist', async () => {
    await expect(readEvalResult('/nonexistent/r.json')).rejects.toThrow('/nonexistent/r.json: no such file');
  });
});

describe('writePredictionsCsv', () => {
  it('writes file,true,top1,score1,... with CSV escaping', async () => {
    const file = join(await tempDir('csv'), 'predictions.csv');
    await writePredictionsCsv(file, syntheticResult(), NAMES);
    expect(await readFile(file, 'utf8')).toBe(
      [
        'file,true,top1,score1,top2,score2',
        '/data/a.jpg,tench,tench,31.25,cock,30.1235',
        '"/data/with,comma.jpg","great white shark, white shark","the ""best"" class",28.5,"great white shark, white shark",27',
        '/data/c.jpg,hen,goldfish,20,tench,20',
        '',
      ].join('\n'),
    );
  });

  it('has topK columns (5 by default)', async () => {
    const file = join(await tempDir('csv5'), 'p.csv');
    const result = syntheticResult(2);
    await writePredictionsCsv(file, { ...result, topK: 5 }, NAMES);
    const [header, first] = (await readFile(file, 'utf8')).split('\n');
    expect(header).toBe('file,true,top1,score1,top2,score2,top3,score3,top4,score4,top5,score5');
    expect(first).toBe('/data/a.jpg,tench,tench,31.25,cock,30.1235,,,,,,');
  });

  it('quotes only what needs it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField(' padded')).toBe('" padded"');
  });
});
