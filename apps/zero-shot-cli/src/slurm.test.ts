/**
 * `zero-shot cluster slurm` on a real Slurm: a single-node cluster on this machine (Debian's slurm-wlm and
 * munge, started by scripts/slurm-single-node.sh as root), a 3-task job array of `zero-shot eval --shard
 * auto --out results-{shard}.json` on the tiny CLIP fixture and the dependent merge, exactly as the printed
 * driver script submits them. Skipped, saying why, where the daemons cannot run (not root, no packages).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellJoin } from './cluster/shell.js';
import { TINY_CLIP, colourDataset, removeTempDirs, run, tempDir } from './cli.test.helpers.js';

const exec = promisify(execFile);
const APP = fileURLToPath(new URL('..', import.meta.url));
// Compiled here for this test alone: dist/ may be rewritten meanwhile by turbo's build or another test.
const OUT = join(APP, '.tmp', 'slurm-dist');
const BIN = join(OUT, 'bin.js');
const HELPER = fileURLToPath(new URL('../../../scripts/slurm-single-node.sh', import.meta.url));
const TOOLS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo'];

/** Why this machine cannot run the daemons, or null when it can. */
function unavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (slurmd runs jobs as their user)';
  const missing = TOOLS.filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  return missing.length > 0
    ? `${missing.join(', ')} not installed (apt-get install -y slurm-wlm munge; .ci/run does)`
    : null;
}

const reason = unavailable();
if (reason !== null) console.warn(`skipping the single-node Slurm test: ${reason}`);

let slurmDir: string;
let env: NodeJS.ProcessEnv;
let started = false;

beforeAll(async () => {
  if (reason !== null) return;
  // The tasks run the compiled CLI: compile this app (its dependencies are built by turbo).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(APP, 'tsconfig.json'), '--outDir', OUT], { stdio: 'pipe' });
  slurmDir = await tempDir('slurm');
  try {
    await exec('bash', [HELPER, 'start', slurmDir], { timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`scripts/slurm-single-node.sh start failed:\n${e.stderr ?? e.message}`, { cause: err });
  }
  started = true;
  env = { ...process.env, SLURM_CONF: join(slurmDir, 'slurm.conf') };
}, 120_000);

afterAll(async () => {
  if (started) await exec('bash', [HELPER, 'stop', slurmDir], { timeout: 60_000 });
  await removeTempDirs();
}, 60_000);

/** Waits until none of `jobs` is in the queue any more (finished, failed or cancelled). */
async function waitForJobs(jobs: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await exec('squeue', ['-h', '-j', jobs.join(','), '-o', '%i %T %r'], { env });
    if (stdout.trim() === '') return;
    if (Date.now() > deadline) throw new Error(`jobs still queued after ${timeoutMs} ms:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(reason !== null)('zero-shot cluster slurm on a single-node Slurm', () => {
  it('runs a 3-task array and the dependent merge, equal to one unsharded run, building the classifier once', async () => {
    const t0 = performance.now();
    const ds = await colourDataset('folders', { perClass: 5, wrong: 2 });
    const evalArgs = [
      '--model',
      TINY_CLIP,
      '--data',
      ds.root,
      '--classes',
      ds.classesFile,
      '--templates',
      'a photo of a {}.',
      '--batch-size',
      '4',
    ];
    const single = join(await tempDir('slurm-single'), 'single.json');
    const reference = await run(['eval', ...evalArgs, '--no-cache', '--out', single, '--quiet']);
    expect(reference.code, reference.err).toBe(0);

    const work = join(await tempDir('slurm-work'), 'run');
    const printed = await run([
      'cluster',
      'slurm',
      '--shards',
      '3',
      '--cpus',
      '1',
      '--name',
      'zs-ci',
      '--work-dir',
      work,
      '--command',
      shellJoin([process.execPath, BIN]),
      '--',
      ...evalArgs,
    ]);
    expect(printed.code, printed.err).toBe(0);
    const driver = join(slurmDir, 'submit.sh');
    await writeFile(driver, printed.out);
    const { stdout } = await exec('bash', [driver], { env, timeout: 30_000 });
    const array = /submitted evaluation array (\d+)/.exec(stdout)?.[1];
    const merge = /submitted merge job (\d+)/.exec(stdout)?.[1];
    expect(array, stdout).toBeDefined();
    expect(merge, stdout).toBeDefined();
    await waitForJobs([array!, merge!], 90_000);

    const logs = join(work, 'logs');
    const logText = async (name: string) => readFile(join(logs, name), 'utf8');
    const names = (await readdir(logs)).sort();
    const taskLogs = names.filter((n) => new RegExp(`^zs-ci-${array}_\\d\\.out$`).test(n));
    const mergeLog = names.find((n) => n.startsWith('zs-ci-merge-'));
    expect(taskLogs, names.join(', ')).toHaveLength(3);
    expect(mergeLog, names.join(', ')).toBeDefined();
    const mergeText = await logText(mergeLog!);
    expect(mergeText, mergeText).toMatch(/merged 3 shards: top-1 60\.00%/);

    const merged = JSON.parse(await readFile(join(work, 'results.json'), 'utf8'));
    const want = JSON.parse(await readFile(single, 'utf8'));
    expect(merged.metrics).toEqual(want.metrics);
    expect(merged.counts).toEqual(want.counts);
    expect(merged.predictions).toEqual(want.predictions);

    // Each task found its shard in Slurm's variables; one built the classifier, the others loaded it.
    const shards = await Promise.all(
      [0, 1, 2].map(async (i) => JSON.parse(await readFile(join(work, `results-${i}.json`), 'utf8'))),
    );
    expect(shards.map((s) => s.shard)).toEqual(
      [0, 1, 2].map((index) => ({ index, count: 3, source: 'slurm' })),
    );
    expect(shards.filter((s) => !s.timing.classifierCached)).toHaveLength(1);
    const cachedLogs = await Promise.all(taskLogs.map(logText));
    expect(cachedLogs.filter((t) => t.includes('classifier: loaded from the cache'))).toHaveLength(2);
    for (const t of cachedLogs) expect(t).toMatch(/shard \d\/3 \(from the slurm environment\)/);
    expect((await readdir(join(work, 'cache'))).filter((f) => f.endsWith('.safetensors'))).toHaveLength(1);
    console.log(`single-node Slurm: array + merge in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 180_000);
});
