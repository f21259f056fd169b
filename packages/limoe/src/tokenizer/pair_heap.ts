/**
 * Max-heap of candidate merges for BPE training. Finding the most frequent pair by scanning every pair
 * each merge is O(pairs · merges); a heap makes each step O(log pairs). Entries are never updated in
 * place: when a pair's count changes a fresh entry is pushed, and the trainer discards popped entries
 * whose count no longer matches ("lazy deletion").
 */

/** A candidate merge with its count at push time and its token strings (for tie-breaking). */
export interface PairEntry {
  key: number;
  left: number;
  right: number;
  count: number;
  leftToken: string;
  rightToken: string;
}

/**
 * Heap order: higher count first; ties broken by the lexicographically smaller (left, right) token pair,
 * so training is a pure function of the word counts — the same corpus always yields the same vocabulary,
 * whatever order its captions come in.
 */
export function before(a: PairEntry, b: PairEntry): boolean {
  if (a.count !== b.count) return a.count > b.count;
  if (a.leftToken !== b.leftToken) return a.leftToken < b.leftToken;
  return a.rightToken < b.rightToken;
}

export class PairHeap {
  private readonly items: PairEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: PairEntry): void {
    const items = this.items;
    let i = items.length;
    items.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = entry;
  }

  pop(): PairEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= items.length) break;
      const r = l + 1;
      const child = r < items.length && before(items[r], items[l]) ? r : l;
      if (!before(items[child], last)) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = last;
    return top;
  }
}
