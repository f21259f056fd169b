import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP, colourDataset, removeTempDirs, run, tempDir } from './cli.test.helpers.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(APP, 'dist', 'bin.js');

beforeAll(() => {
  // The child process runs the compiled CLI: compile this app (its dependencies are built by turbo).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(APP, 'tsconfig.json')], { stdio: 'pipe' });
}, 120_000);
afterAll(removeTempDirs);

/** Starts `zero-shot <argv>` and SIGKILLs it once its progress says `images N/total` with N > 0. */
function killAfterProgress(argv: string[], total: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      err += text;
      const done = [...err.matchAll(new RegExp(`images (\\d+)/${total}`, 'g'))].map((m) => Number(m[1]));
      if (done.some((n) => n > 0 && n < total)) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL'
        ? resolve(err)
        : reject(new Error(`the run ended (code ${code}) before it was killed:\n${err}`)),
    );
  });
}

describe('zero-shot eval --resume', () => {
  it('continues a run killed mid-way and gives the metrics of an uninterrupted run', async () => {
    const ds = await colourDataset('folders', { perClass: 40, wrong: 7 });
    const dir = await tempDir('resume');
    const base = [
      'eval',
      '--model',
      TINY_CLIP,
      '--data',
      ds.root,
      '--classes',
      ds.classesFile,
      '--templates',
      'a photo of a {}.',
      '--cache-dir',
      join(dir, 'cache'),
      '--batch-size',
      '1',
    ];
    const work = join(dir, 'work');
    const log = await killAfterProgress([...base, '--work-dir', work], 160);
    expect(log).toMatch(/images \d+\/160/);
    const finished = (await readFile(join(work, 'predictions.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(finished.length).toBeGreaterThan(0);
    expect(finished.length).toBeLessThan(160);

    const resumed = await run([...base, '--work-dir', work, '--resume', '--json']);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toContain('(resuming)');
    const full = await run([...base, '--work-dir', join(dir, 'work-full'), '--json', '--quiet']);
    const a = JSON.parse(resumed.out);
    const b = JSON.parse(full.out);
    expect(a.metrics).toEqual(b.metrics);
    expect(a.counts).toEqual(b.counts);
    expect(a.metrics.top1).toBeCloseTo(33 / 40, 10);
  });
});
