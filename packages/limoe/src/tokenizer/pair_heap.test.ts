import { expect, it } from 'vitest';
import { PairHeap, type PairEntry } from './pair_heap.js';

const entry = (count: number, leftToken: string, rightToken: string): PairEntry => ({
  key: 0,
  left: 0,
  right: 0,
  count,
  leftToken,
  rightToken,
});

it('pops by count, then lexicographically smallest (left, right)', () => {
  const heap = new PairHeap();
  const entries = [
    entry(3, 'b', 'a'),
    entry(5, 'z', 'z'),
    entry(3, 'a', 'c'),
    entry(3, 'a', 'b'),
    entry(1, 'a', 'a'),
  ];
  for (const e of entries) heap.push(e);
  const order: string[] = [];
  for (let e = heap.pop(); e !== undefined; e = heap.pop())
    order.push(`${e.count}${e.leftToken}${e.rightToken}`);
  expect(order).toEqual(['5zz', '3ab', '3ac', '3ba', '1aa']);
  expect(heap.size).toBe(0);
});

it('matches a sort on many random entries', () => {
  const heap = new PairHeap();
  const all: PairEntry[] = [];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 500; i++) {
    const e = entry(Math.floor(rand() * 20), String.fromCharCode(97 + Math.floor(rand() * 5)), String(i));
    all.push(e);
    heap.push(e);
  }
  const popped: PairEntry[] = [];
  for (let e = heap.pop(); e !== undefined; e = heap.pop()) popped.push(e);
  const sorted = [...all].sort(
    (a, b) =>
      b.count - a.count ||
      (a.leftToken < b.leftToken ? -1 : a.leftToken > b.leftToken ? 1 : 0) ||
      (a.rightToken < b.rightToken ? -1 : a.rightToken > b.rightToken ? 1 : 0),
  );
  expect(popped).toEqual(sorted);
});
