import { assertNonNegativeInteger } from '@moevl/core';

/**
 * A size-capped least-recently-used cache. Captions repeat a small set of words ("a", "photo", "of"), so
 * memoising word → ids skips the merge loop for almost every word; the cap keeps memory bounded when a
 * long-running process encodes an open-ended stream of text.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  /** `capacity` 0 disables caching entirely. */
  constructor(readonly capacity: number) {
    assertNonNegativeInteger('LruCache: capacity', capacity);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns the cached value and marks it most recently used (Map keeps insertion order). */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Stores a value, evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
  }
}
