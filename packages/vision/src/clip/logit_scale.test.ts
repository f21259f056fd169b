import { expect, it } from 'vitest';
import { defaultLogitScale } from './transformers_clip.js';

it('reads CLIP configs initial logit scale (2.6592) as the trained 100, other values as given', () => {
  expect(defaultLogitScale(2.6592)).toBe(100);
  expect(defaultLogitScale(Math.log(1 / 0.07))).toBe(100);
  expect(defaultLogitScale(undefined)).toBe(100);
  expect(defaultLogitScale(Math.log(50))).toBeCloseTo(50, 6);
});
