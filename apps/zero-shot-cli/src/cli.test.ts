import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_TRACE, removeTempDirs, run, tempDir } from './cli.test.helpers.js';
import { COMMANDS } from './commands/index.js';
import { installedBuiltinNames } from './models/resolve_model.js';

afterAll(removeTempDirs);

describe('zero-shot CLI', () => {
  it('prints the overview with every command, and the version', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(r.out).toContain(`zero-shot ${name}`);
    expect(r.out).toMatch(/Exit codes: 0 ok, 1 the task failed, 2 a usage or input error/);
    const v = await run(['--version']);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^\d+\.\d+\.\d+\n$/);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('zero-shot eval');
  });

  it.each(Object.keys(COMMANDS))('prints complete help for "%s --help" and "help %s"', async (name) => {
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`zero-shot ${name}`);
    expect(r.out).toMatch(/Usage:/);
    expect(r.out).toMatch(/Exit codes:/);
    expect((await run(['help', name])).out).toBe(r.out);
    expect((await run([name, '-h'])).out).toBe(r.out);
  });

  it('documents every flag of eval in its help', async () => {
    const { out } = await run(['eval', '--help']);
    for (const flag of [
      '--model',
      '--data',
      '--layout',
      '--labels-file',
      '--classes',
      '--subset',
      '--templates',
      '--batch-size',
      '--limit',
      '--seed',
      '--backend',
      '--dtype',
      '--threads',
      '--no-cache',
      '--cache-dir',
      '--json',
      '--out',
      '--predictions',
      '--resume',
      '--work-dir',
      '--shard',
      '--strict',
      '--quiet',
      '--router-plugin',
      '--eval-capacity-factor',
      '--check-router',
      '--dataset-name',
      '--max-image-bytes',
    ]) {
      expect(out).toContain(flag);
    }
  });

  it('runs the engine self-check as JSON with only JSON on stdout', async () => {
    const r = await run(['selfcheck', '--steps', '20', '--json', '--backend', 'wasm']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.engine.backend).toBe('wasm');
    expect(result.losses).toHaveLength(20);
    expect(result.ok).toBe(true);
    expect(r.err).toMatch(/backend: wasm/);
  });

  it('lists router strategies, with those of a plugin', async () => {
    const dir = await tempDir('plugin');
    const plugin = join(dir, 'my_router.mjs');
    await writeFile(
      plugin,
      `export default { specificationVersion: 'v1', name: 'my-router', version: '1.2.3',
        description: 'A test router', validateOptions: (o) => o, create: () => { throw new Error('unused'); } };\n`,
    );
    const r = await run(['routers', '--router-plugin', plugin, '--json']);
    expect(r.code, r.err).toBe(0);
    const { routers } = JSON.parse(r.out);
    expect(routers).toContainEqual({ name: 'my-router', version: '1.2.3', description: 'A test router' });
    expect(routers.map((s: { name: string }) => s.name)).toContain('top-k');
    const table = await run(['routers', '--router-plugin', plugin]);
    expect(table.out).toMatch(/^my-router\s+1\.2\.3\s+A test router$/m);
    expect(table.out).toMatch(/^top-k\s/m);

    const broken = join(dir, 'broken.mjs');
    await writeFile(
      broken,
      `export default { specificationVersion: 'v1', name: 'broken', validateOptions: (o) => o };\n`,
    );
    const bad = await run(['routers', '--router-plugin', broken]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /--router-plugin: router plugin ".*broken\.mjs": strategy "broken" is missing create\(options\)/,
    );
    expect(bad.err).not.toMatch(STACK_TRACE);
  });

  it('runs the demo: the builtin LIMoE on Fashion-MNIST, or the self-check when none is installed', async () => {
    const r = await run([
      'demo',
      '--limit',
      '50',
      '--steps',
      '5',
      '--no-cache',
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out);
    if (installedBuiltinNames().includes('limoe-fashion-mnist')) {
      expect(json.demo).toBe('limoe-fashion-mnist');
      expect(json.counts.evaluated).toBe(50);
      expect(json.metrics.top1).toBeGreaterThan(0.1);
    } else {
      expect(r.err).toMatch(/no builtin models are installed/);
      expect(json.ok).toBe(true);
    }
  });

  it('reports usage errors with exit code 2, one message and no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['selfcheck', '--steps', 'x'], /--steps must be an integer in \[1, 10000\], got "x"/],
      [['demo', '--bogus'], /Unknown option '--bogus'/],
      [['eval'], /--model is required/],
      [
        ['backend', '--backend', 'gpu'],
        /--backend: unknown backend "gpu"; use one of tensorflow-gpu, tensorflow, wasm, cpu/,
      ],
      [['evaluate'], /unknown command "evaluate"; commands: eval, merge/],
      [['--json', 'demo'], /expected a command before "--json"/],
      [['merge'], /merge needs the result files/],
      [['merge', '/no/such/result.json'], /\/no\/such\/result\.json: no such file/],
      [['classify', 'x.png'], /pass either --labels "cat,dog" or --classes FILE/],
      [['classify', '/no/such/x.png', '--labels', 'a,b'], /the image \/no\/such\/x\.png does not exist/],
      [
        ['train-limoe', '--variant', 'moe'],
        /--variant must be one of limoe, dense, two-tower, limoe-no-entropy, got "moe"/,
      ],
      [['train-limoe', '--positives', 'all'], /--positives must be one of same-class, diagonal/],
      [['train-limoe', '--lr', 'fast'], /--lr must be a finite number > 0, got "fast"/],
      [
        ['eval', '--model', 'builtin:nope', '--data', 'fashion-mnist'],
        /--model builtin:nope: (Unknown builtin model "nope"|No builtin models are installed)/,
      ],
      // Negative numbers get the flag's own sentence, not parseArgs' "argument is ambiguous".
      [
        ['eval', '--model', 'm', '--data', 'fashion-mnist', '--limit', '-5'],
        /^zero-shot: --limit must be an integer ≥ 1, got "-5"\.$/m,
      ],
      [['train-limoe', '--steps', '-3'], /^zero-shot: --steps must be an integer ≥ 1, got "-3"\.$/m],
      [
        ['eval', '--model', 'm', '--data', 'fashion-mnist', '--eval-capacity-factor', '-1'],
        /--eval-capacity-factor must be a finite number > 0, got "-1"/,
      ],
      // A work dir that is a file is found before anything runs.
      [
        ['eval', '--model', 'm', '--data', 'fashion-mnist', '--work-dir', '/etc/hostname'],
        /^zero-shot: --work-dir: \/etc\/hostname is a file, not a folder; pass a folder path\.$/m,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
      expect(r.err).not.toMatch(STACK_TRACE);
    }
  });

  it('exits 1 when a forced backend cannot start', async () => {
    const r = await run(['backend', '--backend', 'tensorflow']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/npm i @tensorflow\/tfjs-node/);
  });
});
