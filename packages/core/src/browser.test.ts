import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as browser from './browser.js';
import * as node from './index.js';
import { browserImportViolations } from './testing/browser_imports.js';

it('the browser entry reaches no Node module', () => {
  expect(browserImportViolations(new URL('./browser.ts', import.meta.url))).toEqual([]);
});

it('the browser entry is a part of the Node entry: the same functions, classes and values', () => {
  for (const [name, value] of Object.entries(browser))
    expect(node[name as keyof typeof node], name).toBe(value);
});

it('the checker follows relative and #platform imports, skips type-only ones, and names the chain', async () => {
  const root = await mkdtemp(join(tmpdir(), 'moevl-browser-imports-'));
  const imports = {
    '#platform': { browser: './dist/platform/browser.js', default: './dist/platform/node.js' },
  };
  await mkdir(join(root, 'src/platform'), { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'p', imports }));
  await writeFile(
    join(root, 'src/entry.ts'),
    "import type { Stats } from 'node:fs';\nexport * from './a.js';\n",
  );
  await writeFile(join(root, 'src/a.ts'), "import { p } from '#platform';\nimport sharp from 'sharp';\n");
  await writeFile(join(root, 'src/platform/browser.ts'), "export const p = await import('node:os');\n");
  await writeFile(join(root, 'src/platform/node.ts'), "import 'node:fs';\n");
  try {
    expect(browserImportViolations(join(root, 'src/entry.ts'))).toEqual([
      { specifier: 'node:os', chain: ['src/entry.ts', 'src/a.ts', 'src/platform/browser.ts'] },
      { specifier: 'sharp', chain: ['src/entry.ts', 'src/a.ts'] },
    ]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  expect(browserImportViolations(new URL('./index.ts', import.meta.url))).toContainEqual({
    specifier: 'node:fs/promises',
    chain: ['src/index.ts', 'src/io/index.ts', 'src/io/atomic_write.ts'],
  });
});
