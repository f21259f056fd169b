import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The root README's `npx zero-shot …` commands, read from the README and run as written, through the bin
 * npm links at install (node_modules/.bin) as a user runs them after `npm ci` and `npm run demo`: the bin is
 * a committed file, so the link exists before `dist/`. If the README changes, this runs the new commands.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'node_modules/.bin/zero-shot');

/** Every `npx zero-shot …` line of the README's shell blocks, with `\` continuations joined. */
function readmeCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const lines = blocks.flatMap((b) => b.replace(/\\\n\s*/g, '').split('\n'));
  return lines.map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith('npx zero-shot'));
}

/** Splits a README command into arguments (plain words; the README quotes nothing). */
function words(command: string): string[] {
  return command.split(/\s+/).filter(Boolean);
}

describe("the root README's zero-shot commands", () => {
  const commands = readmeCommands(readFileSync(join(root, 'README.md'), 'utf8'));
  // Commands that need data or a network no test machine has (ImageNet, a hub download) are not run.
  const runnable = commands.filter((c) => !/\/data\/|Xenova\//.test(c));

  it('include --help and the builtin-model evaluation', () => {
    expect(runnable).toContain('npx zero-shot --help');
    expect(runnable.some((c) => c.includes('eval --model builtin:limoe-fashion-mnist'))).toBe(true);
  });

  it('run as written after npm ci', () => {
    expect(existsSync(bin), `${bin} is not linked; run npm ci`).toBe(true);
    const cache = mkdtempSync(join(tmpdir(), 'moevl-readme-'));
    try {
      for (const command of runnable) {
        const [npx, ...args] = words(command);
        expect(npx).toBe('npx');
        const r = spawnSync('npx', ['--no-install', ...args], {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, MOEVL_CACHE_DIR: cache },
        });
        expect(r.status, `${command}\n${r.stderr}`).toBe(0);
        if (args.includes('--help')) expect(r.stdout).toMatch(/zero-shot eval --model MODEL --data PATH/);
        if (args[1] === 'eval') expect(r.stdout).toMatch(/top-1 \d+\.\d+%/);
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 120_000);
});
