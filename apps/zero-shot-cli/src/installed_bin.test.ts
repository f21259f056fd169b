import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The README's commands through the `zero-shot` command npm links at install (node_modules/.bin), as a user
 * runs them after `npm ci` and a build: the bin is a committed file, so the link exists before `dist/`.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = `${root}node_modules/.bin/zero-shot`;

describe('the installed zero-shot command', () => {
  it('is linked by npm and runs the README quick-start commands', () => {
    expect(existsSync(bin), `${bin} is not linked; run npm ci`).toBe(true);
    const help = spawnSync(bin, ['--help'], { cwd: root, encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/zero-shot eval --model MODEL --data PATH/);
    const evalRun = spawnSync(
      bin,
      [
        'eval',
        '--model',
        'builtin:limoe-fashion-mnist',
        '--data',
        'fashion-mnist',
        '--limit',
        '100',
        '--no-cache',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(evalRun.status, evalRun.stderr).toBe(0);
    expect(evalRun.stdout).toMatch(/top-1 \d+\.\d+%/);
  }, 60_000);
});
