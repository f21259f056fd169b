import { expect, it } from 'vitest';
import { LruCache } from './word_cache.js';

it('evicts the least recently used entry at capacity', () => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  expect(cache.get('a')).toBe(1); // a is now most recent
  cache.set('c', 3);
  expect(cache.get('b')).toBeUndefined();
  expect(cache.get('a')).toBe(1);
  expect(cache.get('c')).toBe(3);
  expect(cache.size).toBe(2);
});

it('capacity 0 disables caching and bad capacities throw', () => {
  const cache = new LruCache<string, number>(0);
  cache.set('a', 1);
  expect(cache.get('a')).toBeUndefined();
  expect(() => new LruCache(-1)).toThrow(/capacity/);
});
