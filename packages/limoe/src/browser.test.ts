import { browserImportViolations } from '@moevl/core/testing';
import { expect, it } from 'vitest';
import * as browser from './browser.js';
import * as node from './index.js';
import { platform as inBrowser } from './platform/browser.js';

it('the browser entry reaches no Node module', () => {
  expect(browserImportViolations(new URL('./browser.ts', import.meta.url))).toEqual([]);
});

it('the browser entry is a part of the Node entry: the same functions, classes and values', () => {
  for (const [name, value] of Object.entries(browser))
    expect(node[name as keyof typeof node], name).toBe(value);
});

it("says why a model with CLIP's tokenizer does not load in a browser", () => {
  const ref = {
    type: 'hf-tokenizer',
    version: 1,
    name: 'clip-bpe-16e6',
    sot: 's',
    eot: 'e',
    padId: 0,
  } as const;
  expect(() => inBrowser.loadHfTokenizer(ref, 'model.safetensors')).toThrow(
    /^model\.safetensors: its tokenizer is a Hugging Face tokenizer\.json \(clip-bpe-16e6\), which @moevl\/limoe reads only on Node/,
  );
});
