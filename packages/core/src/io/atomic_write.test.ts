import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic_write.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'moevl-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes the temp files of writes interrupted by a process that is gone, not of live ones', async () => {
    const { spawnSync } = await import('node:child_process');
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout,
    );
    const target = join(dir, 'ckpt.safetensors');
    await writeFile(join(dir, `.ckpt.safetensors.${dead}.0a1b2c3d4e5f.tmp`), 'half a checkpoint');
    await writeFile(join(dir, `.ckpt.safetensors.${process.ppid}.0a1b2c3d4e5f.tmp`), 'a live writer');
    await writeFile(join(dir, '.other.bin.1.00.tmp'), 'another file');
    await writeFileAtomic(target, 'whole');
    expect((await readdir(dir)).sort()).toEqual(
      [
        `.ckpt.safetensors.${process.ppid}.0a1b2c3d4e5f.tmp`,
        '.other.bin.1.00.tmp',
        'ckpt.safetensors',
      ].sort(),
    );
  });

  it('writes bytes and strings, leaving only the target behind', async () => {
    const target = join(dir, 'out.bin');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
    await writeFileAtomic(join(dir, 'out.txt'), 'héllo\n');
    expect(await readFile(join(dir, 'out.txt'), 'utf8')).toBe('héllo\n');
    expect((await readdir(dir)).sort()).toEqual(['out.bin', 'out.txt']);
  });

  it('replaces an existing file whole, never leaving a tail of the old contents', async () => {
    const target = join(dir, 'ckpt.json');
    await writeFile(target, 'x'.repeat(10_000));
    await writeFileAtomic(target, '{"step":2}');
    expect(await readFile(target, 'utf8')).toBe('{"step":2}');
    expect(await readdir(dir)).toEqual(['ckpt.json']);
  });

  it('fails naming the target when its directory is missing, and leaves no temp file', async () => {
    const target = join(dir, 'missing', 'out.bin');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(
      new RegExp(`could not write ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*ENOENT`),
    );
    await expect(writeFileAtomic(target, 'data')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes the temp file when the final rename fails', async () => {
    // A non-empty directory where the file should go: the temp is written, then the rename is refused.
    const target = join(dir, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(/could not write .*taken/);
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readdir(target)).toEqual(['keep']);
  });
});
