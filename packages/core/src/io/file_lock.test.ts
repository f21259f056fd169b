import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLockedError, acquireLock } from './file_lock.js';

const dir = await mkdtemp(join(tmpdir(), 'moevl-lock-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (so its lock is stale). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('acquireLock', () => {
  it('holds a lock until release, refusing a second holder with one sentence naming the first', async () => {
    const path = join(dir, 'a.lock');
    const lock = await acquireLock(path, { label: 'the work dir X' });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    const error = (await acquireLock(path, { label: 'the work dir X' }).catch(
      (e: unknown) => e,
    )) as FileLockedError;
    expect(error).toBeInstanceOf(FileLockedError);
    expect(error.holder.pid).toBe(process.pid);
    expect(error.message).toMatch(new RegExp(`^the work dir X is in use by process ${process.pid} on `));
    await lock.release();
    await (await acquireLock(path)).release();
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });

  it('waits for a live holder when asked', async () => {
    const path = join(dir, 'b.lock');
    const first = await acquireLock(path);
    setTimeout(() => void first.release(), 150);
    const t0 = Date.now();
    const second = await acquireLock(path, { waitMs: 5000, pollMs: 20 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    await second.release();
  });

  it('takes over a lock whose process is gone, and one from another host only when old', async () => {
    const path = join(dir, 'c.lock');
    const pid = deadPid();
    await writeFile(path, JSON.stringify({ pid, host: hostname(), since: 'then' }));
    const lock = await acquireLock(path);
    expect(lock.tookOverStale).toMatchObject({ pid });
    await lock.release();
    await writeFile(path, JSON.stringify({ pid: 1, host: 'elsewhere', since: 'now' }));
    await expect(acquireLock(path)).rejects.toThrow(/in use by process 1 on elsewhere/);
    const old = await acquireLock(path, { staleMs: 0 });
    expect(old.tookOverStale).toMatchObject({ host: 'elsewhere' });
    await old.release();
  });
});
