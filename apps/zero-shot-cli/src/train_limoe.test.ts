import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fashionMnistDir } from '@moevl/vision';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, run, tempDir } from './cli.test.helpers.js';

afterAll(removeTempDirs);

/** The official training files (Debian's dataset-fashion-mnist; CI installs it). */
const haveTrainingSet = existsSync(join(fashionMnistDir(), 'train-images-idx3-ubyte.gz'));
if (!haveTrainingSet) {
  console.warn(
    `train-limoe tests skipped: no official Fashion-MNIST training files in ${fashionMnistDir()} ` +
      '(apt-get install dataset-fashion-mnist, or set MOEVL_FASHION_MNIST_DIR).',
  );
}

describe('zero-shot train-limoe', () => {
  it('without the official training files: exit 2 saying how to get them', async () => {
    const out = await tempDir('nofiles');
    const r = await run([
      'train-limoe',
      '--steps',
      '1',
      '--fashion-mnist-dir',
      join(out, 'none'),
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/train-images-idx3-ubyte\.gz not found .*apt-get install dataset-fashion-mnist/);
  });

  it.skipIf(!haveTrainingSet)(
    'refuses an --out that holds a run unless --resume, and resumes only the same run',
    async () => {
      const out = await tempDir('mix');
      const base = [
        'train-limoe',
        '--batch-size',
        '8',
        '--per-class',
        '4',
        '--out',
        out,
        '--json',
        '--quiet',
      ];
      expect((await run([...base, '--steps', '3'])).code).toBe(0);
      const again = await run([...base, '--steps', '2']);
      expect(again.code).toBe(2);
      expect(again.err).toMatch(/already holds/);
      const other = await run([...base, '--steps', '4', '--resume', '--seed', '5']);
      expect(other.code).toBe(2);
      expect(other.err).toMatch(/another configuration \(.*seed.*\)/);
      const resumed = await run([...base, '--steps', '4', '--resume']);
      expect(resumed.code, resumed.err).toBe(0);
      expect(JSON.parse(resumed.out)).toMatchObject({ steps: 4, resumedFromStep: 3 });
    },
  );

  it.skipIf(!haveTrainingSet)(
    'Ctrl-C writes a checkpoint, says how to resume, and exits 130',
    async () => {
      const out = await tempDir('sigint');
      const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
      const child = spawn(process.execPath, [
        bin,
        ...['train-limoe', '--steps', '5000', '--batch-size', '8', '--per-class', '4', '--out', out],
      ]);
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += String(c);
        if (/train \d+\/5000/.test(err) && !child.killed) child.kill('SIGINT');
      });
      const code = await new Promise<number | null>((done) => child.on('close', done));
      expect(code, err).toBe(130);
      expect(err).toMatch(
        /training stopped after step \d+; the checkpoint .* holds it — run the same command with --resume/,
      );
      expect((await readdir(join(out, 'checkpoints'))).some((f) => f.endsWith('.safetensors'))).toBe(true);
    },
    60_000,
  );

  it.skipIf(!haveTrainingSet)(
    'trains a few steps, writes model.safetensors, and eval loads it with the held-out templates',
    async () => {
      const out = await tempDir('limoe');
      const r = await run([
        'train-limoe',
        '--steps',
        '2',
        '--batch-size',
        '8',
        '--per-class',
        '4',
        '--out',
        out,
        '--json',
        '--quiet',
      ]);
      expect(r.code, r.err).toBe(0);
      const summary = JSON.parse(r.out);
      expect(summary).toMatchObject({ variant: 'limoe', steps: 2, batchSize: 8, trainImages: 40 });
      expect(summary.model).toBe(join(out, 'model.safetensors'));
      expect(Number.isFinite(summary.finalLoss)).toBe(true);

      const e = await run([
        'eval',
        '--model',
        summary.model,
        '--data',
        'fashion-mnist',
        '--limit',
        '20',
        '--no-cache',
        '--json',
        '--quiet',
      ]);
      expect(e.code, e.err).toBe(0);
      const result = JSON.parse(e.out);
      expect(result.model).toBe(summary.model);
      expect(result.dataset).toBe('fashion-mnist-test');
      expect(result.templatesName).toBe('limoe held-out');
      expect(result.templates).toBe(6);
      expect(result.counts.evaluated).toBe(20);
      expect(result.metrics.top5).not.toBeNull();
    },
  );
});
