import { assertIndex, assertPositiveInteger, Rng } from '@moevl/core';

/**
 * Item selection for quick and distributed evaluation: a class-balanced sample (so `--limit 1000` on
 * ImageNet still sees every class, instead of the first two folders) and a split into shards. Both are
 * pure functions of (labels, limit, seed), so every shard of a distributed run — on any machine — agrees
 * on which items exist and which belong to whom, and merged shards equal one uninterrupted run.
 */

function checkSeed(seed: number, what: string): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${what}: seed must be a safe integer, got ${seed}.`);
}

/**
 * A seeded, class-balanced sample of `limit` item indices, sorted ascending. Every class gets
 * ⌊limit / classes⌋ items or all it has; the rest of the budget goes round-robin over classes in a seeded
 * order (classes that run out drop out), so per-class counts differ by at most one where classes are big
 * enough. Which items of a class are taken is a seeded shuffle. `limit ≥ count` returns every item.
 */
export function classBalancedSample(labels: ArrayLike<number>, limit: number, seed: number): number[] {
  assertPositiveInteger('classBalancedSample: limit', limit, (m) => new RangeError(m));
  checkSeed(seed, 'classBalancedSample');
  const count = labels.length;
  if (limit >= count) return Array.from({ length: count }, (_, i) => i);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    let list = byClass.get(label);
    if (!list) byClass.set(label, (list = []));
    list.push(i);
  }
  const rng = new Rng(seed).fork('class-balanced-sample');
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  // Shuffle each class (in class order, so the draws do not depend on Map iteration), then the class order.
  const pools = classes.map((c) => rng.shuffle(byClass.get(c)!));
  const order = rng.permutation(classes.length);
  const picked: number[] = [];
  for (let round = 0; picked.length < limit; round++) {
    for (const k of order) {
      if (round < pools[k].length) picked.push(pools[k][round]);
      if (picked.length === limit) break;
    }
  }
  return picked.sort((a, b) => a - b);
}

/** Validates a `{index, count}` shard spec, with a message a user of `--shard i/n` understands. */
export function checkShard(shard: { index: number; count: number }): void {
  const { index, count } = shard;
  assertPositiveInteger('shard count', count, (m) => new RangeError(m));
  assertIndex('shard index', index, count, undefined, (m) => new RangeError(m));
}

/**
 * The items of one shard, sorted ascending: after a seeded shuffle of `items`, the item at position k goes
 * to shard k mod n. Shuffling first keeps shards balanced in classes and in cost (folders sorted by class
 * would otherwise hand whole classes to one shard); the shards partition `items` exactly.
 */
export function shardItems(
  items: readonly number[],
  shard: { index: number; count: number },
  seed: number,
): number[] {
  checkShard(shard);
  checkSeed(seed, 'shardItems');
  const shuffled = new Rng(seed).fork('shard').shuffle([...items]);
  return shuffled.filter((_, k) => k % shard.count === shard.index).sort((a, b) => a - b);
}
