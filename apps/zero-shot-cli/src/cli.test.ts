import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';

function capture() {
  const chunks = { out: '', err: '' };
  const stream = (key: 'out' | 'err') =>
    new Writable({
      write(c, _e, cb) {
        chunks[key] += String(c);
        cb();
      },
    });
  return { io: { out: stream('out'), err: stream('err') }, chunks };
}

describe('zero-shot CLI', () => {
  it('prints help and exits 0', async () => {
    const { io, chunks } = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(chunks.out).toMatch(/zero-shot demo/);
  });

  it('runs the demo as JSON with only JSON on stdout', async () => {
    const { io, chunks } = capture();
    expect(await main(['demo', '--steps', '20', '--json', '--backend', 'wasm'], io)).toBe(0);
    const result = JSON.parse(chunks.out);
    expect(result.engine.backend).toBe('wasm');
    expect(result.backend).toBe('wasm');
    expect(result.losses).toHaveLength(20);
    expect(result.ok).toBe(true);
    expect(chunks.err).toMatch(/backend: wasm/);
  });

  it('reports usage errors with exit code 2 and no stack trace', async () => {
    for (const argv of [
      ['demo', '--steps', 'x'],
      ['demo', '--bogus'],
      ['eval'],
      ['backend', '--backend', 'gpu'],
      [],
    ]) {
      const { io, chunks } = capture();
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(chunks.err).not.toMatch(/\n\s+at /);
    }
    const { io, chunks } = capture();
    await main(['backend', '--backend', 'gpu'], io);
    expect(chunks.err).toMatch(
      /--backend: unknown backend "gpu"; use one of tensorflow-gpu, tensorflow, wasm, cpu/,
    );
  });

  it('exits 1 when a forced backend cannot start', async () => {
    const { io, chunks } = capture();
    expect(await main(['backend', '--backend', 'tensorflow'], io)).toBe(1);
    expect(chunks.err).toMatch(/npm i @tensorflow\/tfjs-node/);
  });
});
