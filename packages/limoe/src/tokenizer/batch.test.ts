import { expect, it } from 'vitest';
import { layoutBatch } from './batch.js';

const special = { sot: 1, eot: 2, pad: 0 };

it('lays rows out as <sot> tokens <eot> <pad>… with mask, lengths and eotIndex', () => {
  const b = layoutBatch([[7, 8], [], [9]], 5, special);
  expect(Array.from(b.ids)).toEqual([1, 7, 8, 2, 0, 1, 2, 0, 0, 0, 1, 9, 2, 0, 0]);
  expect(Array.from(b.mask)).toEqual([1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0]);
  expect(Array.from(b.lengths)).toEqual([4, 2, 3]);
  expect(Array.from(b.eotIndex)).toEqual([3, 1, 2]);
  expect(Array.from(b.truncated)).toEqual([0, 0, 0]);
  expect([b.batchSize, b.contextLength]).toEqual([3, 5]);
});

it('truncates long rows keeping <eot> at the last position', () => {
  const b = layoutBatch(
    [
      [10, 11, 12, 13, 14],
      [10, 11, 12],
    ],
    5,
    special,
  );
  expect(Array.from(b.ids)).toEqual([1, 10, 11, 12, 2, 1, 10, 11, 12, 2]);
  expect(Array.from(b.eotIndex)).toEqual([4, 4]);
  expect(Array.from(b.truncated)).toEqual([1, 0]);
  expect(Array.from(b.mask)).toEqual(new Array(10).fill(1));
});

it('rejects context lengths without room for <sot> and <eot>', () => {
  expect(() => layoutBatch([[1]], 1, special)).toThrow(/contextLength/);
  expect(() => layoutBatch([[1]], 2.5, special)).toThrow(/contextLength/);
  expect(layoutBatch([], 4, special).ids.length).toBe(0);
});
