import { browserImportViolations } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import * as browser from './browser.js';
import * as node from './index.js';

it('the browser entry reaches no Node module', () => {
  expect(browserImportViolations(new URL('./browser.ts', import.meta.url))).toEqual([]);
});

it('the browser entry is the Node entry without loadRouterPlugin', () => {
  for (const [name, value] of Object.entries(browser))
    expect(node[name as keyof typeof node], name).toBe(value);
  expect(Object.keys(node).filter((name) => !(name in browser))).toEqual(['loadRouterPlugin']);
});
