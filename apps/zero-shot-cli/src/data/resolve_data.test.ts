import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { STACK_TRACE, TINY_CLIP, colourDataset, removeTempDirs, run, tempDir } from '../cli.test.helpers.js';

/**
 * `zero-shot eval` on hostile data folders (issue 12): special files, folder loops, huge files,
 * unreadable folders, a stop signal. Special files and permissions are made at test time; what the
 * platform cannot make is skipped with a message.
 */

afterAll(removeTempDirs);

function makeFifo(path: string): boolean {
  try {
    execFileSync('mkfifo', [path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const canFifo = makeFifo(join(await tempDir('probe'), 'fifo'));
if (!canFifo) console.warn('FIFO cases skipped: mkfifo is not available on this platform.');

const NOBODY = 65534;
/** As root permissions do not apply, so the permission cases switch the effective user to nobody. */
function permissionsUnavailable(): string | undefined {
  if (typeof process.geteuid !== 'function' || typeof process.seteuid !== 'function') {
    return 'this platform has no POSIX user ids';
  }
  if (process.geteuid() !== 0) return undefined;
  try {
    process.setegid!(NOBODY);
    process.seteuid(NOBODY);
  } catch (err) {
    return `running as root without the right to switch to user nobody (${(err as Error).message})`;
  }
  // As nobody the command still reads the checkout (the model fixture, lazily imported modules). Tried by
  // listing it: access(2) would answer for the real user, root, not the effective one.
  let readable = true;
  try {
    readdirSync(TINY_CLIP);
  } catch {
    readable = false;
  } finally {
    process.seteuid(0);
    process.setegid!(0);
  }
  return readable
    ? undefined
    : `user nobody cannot read this checkout (${TINY_CLIP}; a parent folder is private, e.g. mktemp -d's 0700)`;
}
const noPermissions = permissionsUnavailable();
if (noPermissions) console.warn(`permission cases skipped: ${noPermissions}.`);

/** Runs `fn` as nobody when the tests run as root (glibc switches libuv's pool threads too). */
async function asUnprivileged<T>(fn: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0) return fn();
  const groups = process.getgroups!();
  process.setgroups!([]);
  process.setegid!(NOBODY);
  process.seteuid!(NOBODY);
  try {
    return await fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
    process.setgroups!(groups);
  }
}

/** The tiny-CLIP evaluation of a folder: colour classes, one template, no cache (nothing written). */
function evalArgs(data: string, classesFile: string, ...extra: string[]): string[] {
  return [
    'eval',
    '--model',
    TINY_CLIP,
    '--data',
    data,
    '--classes',
    classesFile,
    '--templates',
    'a photo of a {}.',
    '--no-cache',
    ...extra,
  ];
}

/** The one line a refused run prints: `zero-shot: <sentence>` and nothing else. */
function oneSentence(err: string): string {
  expect(err).not.toMatch(STACK_TRACE);
  const lines = err.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('zero-shot eval on data folders with special files and loops', () => {
  it.skipIf(!canFifo || !existsSync('/dev/zero'))(
    'a FIFO x.jpg, a link to /dev/zero and two `ln -s .` loops: every real image once, the rest counted',
    async () => {
      const ds = await colourDataset('folders');
      const red = join(ds.root, 'red');
      expect(makeFifo(join(red, 'x.jpg'))).toBe(true);
      await symlink('/dev/zero', join(red, 'z.jpg'));
      await symlink('.', join(red, 'self'));
      await symlink('.', join(red, 'again'));
      const started = performance.now();
      const r = await run(evalArgs(ds.root, ds.classesFile, '--json'));
      expect(r.code, r.err).toBe(0);
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(JSON.parse(r.out).counts).toMatchObject({ items: 12, evaluated: 12, skipped: 0 });
      expect(r.err).toContain(
        'skipped: 2 special files, not opened (FIFO: 1, character device: 1), 2 folder links looping ' +
          'back to a folder above, not followed (red/again, red/self)',
      );
    },
  );

  it('--max-image-bytes: bigger files are skipped unread, each with its size and the limit', async () => {
    const ds = await colourDataset('folders', { perClass: 2 });
    const huge = join(ds.root, 'red', 'huge.png');
    await writeFile(huge, '');
    await truncate(huge, 2 * 2 ** 20);
    const r = await run(evalArgs(ds.root, ds.classesFile, '--max-image-bytes', '1M', '--json', '--quiet'));
    expect(r.code, r.err).toBe(0);
    const { counts } = JSON.parse(r.out);
    expect(counts).toMatchObject({ items: 9, evaluated: 8, skipped: 1 });
    expect(counts.skippedFiles[0]).toMatchObject({
      id: huge,
      message: expect.stringContaining(
        '2,097,152 bytes (2.0 MiB), over the per-image limit of 1,048,576 bytes (1.0 MiB)',
      ),
    });
  });

  it('--max-image-bytes values are checked before any work', async () => {
    for (const bad of ['0', '12x', '1.5M', '-3']) {
      const r = await run(['eval', '--model', TINY_CLIP, '--data', 'x', `--max-image-bytes=${bad}`]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        /^zero-shot: --max-image-bytes must be a size in bytes ≥ 1, optionally with K, M/,
      );
    }
    const fashion = await run([
      'eval',
      '--model',
      TINY_CLIP,
      '--data',
      'fashion-mnist',
      '--max-image-bytes',
      '1G',
    ]);
    expect(fashion.code).toBe(2);
    expect(fashion.err).toMatch(/--max-image-bytes only apply to image folders/);
  });
});

describe('--data that cannot be evaluated: exit 2 with one sentence naming it', () => {
  it('a file, an empty folder, a folder of nothing but skipped entries', async () => {
    const ds = await colourDataset('folders', { perClass: 1 });
    const file = join(ds.root, 'red', 'img_0000.png');
    const asFile = await run(evalArgs(file, ds.classesFile, '--quiet'));
    expect(asFile.code).toBe(2);
    expect(oneSentence(asFile.err)).toBe(`zero-shot: Dataset path ${file} is a file, not a folder.`);

    const empty = await tempDir('empty');
    const none = await run(evalArgs(empty, ds.classesFile, '--quiet'));
    expect(none.code).toBe(2);
    expect(oneSentence(none.err)).toBe(`zero-shot: Dataset folder ${empty} is empty.`);

    if (!canFifo) return;
    const onlySkipped = await tempDir('skipped');
    await mkdir(join(onlySkipped, 'red'));
    expect(makeFifo(join(onlySkipped, 'red', 'x.jpg'))).toBe(true);
    await symlink('.', join(onlySkipped, 'red', 'self'));
    const skipped = await run(evalArgs(onlySkipped, ds.classesFile, '--quiet'));
    expect(skipped.code).toBe(2);
    expect(oneSentence(skipped.err)).toBe(
      `zero-shot: Dataset folder ${onlySkipped} holds no images: 1 subfolder without images, skipped 1 ` +
        'special file, not opened (FIFO: 1), 1 folder link looping back to a folder above, not followed ' +
        '(red/self).',
    );
  });

  it.skipIf(noPermissions !== undefined)(
    'an unreadable --data root exits 2; an unreadable subfolder is skipped and counted',
    async () => {
      const ds = await colourDataset('folders', { perClass: 2 });
      await chmod(dirname(ds.root), 0o755); // mkdtemp's folder is 0700: let nobody in
      await chmod(ds.root, 0o000);
      try {
        const r = await asUnprivileged(() => run(evalArgs(ds.root, ds.classesFile, '--quiet')));
        expect(r.code).toBe(2);
        expect(oneSentence(r.err)).toBe(
          `zero-shot: Dataset folder ${ds.root} cannot be read (permission denied).`,
        );
      } finally {
        await chmod(ds.root, 0o755);
      }
      await chmod(join(ds.root, 'green'), 0o000);
      try {
        const r = await asUnprivileged(() => run(evalArgs(ds.root, ds.classesFile, '--json')));
        expect(r.code, r.err).toBe(0);
        expect(JSON.parse(r.out).counts).toMatchObject({ items: 6, evaluated: 6 });
        expect(r.err).toContain('skipped: 1 unreadable entry (green: permission denied)');
      } finally {
        await chmod(join(ds.root, 'green'), 0o755);
      }
    },
  );
});

describe('a stop signal', () => {
  it.skipIf(!canFifo || process.platform === 'win32')(
    'SIGTERM during the images stops the run promptly (a FIFO in the folder no longer blocks it)',
    async () => {
      const ds = await colourDataset('folders', { perClass: 40 });
      expect(makeFifo(join(ds.root, 'red', 'x.jpg'))).toBe(true);
      const work = join(await tempDir('stop'), 'work');
      let err = '';
      let signalledAt = 0;
      const stderr = new Writable({
        write(chunk, _encoding, done) {
          err += String(chunk);
          // A real signal to this process, handled by the eval command's SIGTERM handler (registered
          // before any progress is printed): only a free event loop can run that handler.
          const progressed = [...err.matchAll(/images (\d+)\/160/g)].map((m) => Number(m[1]));
          if (signalledAt === 0 && progressed.some((n) => n > 0 && n < 160)) {
            signalledAt = performance.now();
            process.kill(process.pid, 'SIGTERM');
          }
          done();
        },
      });
      const stdout = new Writable({ write: (_c, _e, done) => done() });
      const code = await main(evalArgs(ds.root, ds.classesFile, '--batch-size', '1', '--work-dir', work), {
        out: stdout,
        err: stderr,
      });
      expect(signalledAt, err).toBeGreaterThan(0);
      expect(performance.now() - signalledAt).toBeLessThan(5000);
      expect(code).toBe(1);
      expect(err).toContain('stopping after the current batch');
      expect(err).toMatch(
        new RegExp(`evaluation stopped after \\d+ of 160 items; the partial predictions are in ${work}`),
      );
      const kept = (await readFile(join(work, 'predictions.jsonl'), 'utf8')).split('\n').filter(Boolean);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(160);
    },
  );
});
