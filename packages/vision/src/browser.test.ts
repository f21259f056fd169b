import { browserImportViolations } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import * as browser from './browser.js';
import * as node from './index.js';

/** Exported by both entries, each with its platform's implementation (the ranking itself is shared). */
const PER_PLATFORM = ['classifyImages', 'zeroShotClassifier'];

it('the browser entry reaches no Node module', () => {
  expect(browserImportViolations(new URL('./browser.ts', import.meta.url))).toEqual([]);
});

it('the browser entry is a part of the Node entry: the same functions, classes and values', () => {
  for (const [name, value] of Object.entries(browser)) {
    if (PER_PLATFORM.includes(name)) expect(typeof node[name as keyof typeof node], name).toBe('function');
    else expect(node[name as keyof typeof node], name).toBe(value);
  }
});
