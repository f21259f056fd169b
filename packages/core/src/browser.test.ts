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

it('the checker finds a Node import and the files that lead to it', () => {
  expect(browserImportViolations(new URL('./index.ts', import.meta.url))).toContainEqual({
    specifier: 'node:fs/promises',
    chain: ['src/index.ts', 'src/io/index.ts', 'src/io/atomic_write.ts'],
  });
});
