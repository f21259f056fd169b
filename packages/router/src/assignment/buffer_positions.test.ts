import { describe, expect, it } from 'vitest';
import { bufferPositions } from './buffer_positions.js';

describe('bufferPositions', () => {
  // The top-2 experts of vmoe/nn/routing_test.py's gates, row-major [S=3, K=2].
  const expertIndex = [0, 2, 0, 2, 2, 0];

  it('counts K-major in token order by default', () => {
    const p = bufferPositions({ expertIndex, tokens: 3, k: 2, numExperts: 3, capacity: 2 });
    expect(Array.from(p)).toEqual([0, 1, 1, -1, 0, -1]);
  });

  it('follows a given order and skips tokens left out of it', () => {
    const bpr = bufferPositions({
      expertIndex,
      tokens: 3,
      k: 2,
      numExperts: 3,
      capacity: 2,
      order: [2, 1, 0],
    });
    expect(Array.from(bpr)).toEqual([1, -1, 0, 1, 0, -1]);
    const masked = bufferPositions({
      expertIndex,
      tokens: 3,
      k: 2,
      numExperts: 3,
      capacity: 2,
      order: [1, 2],
    });
    expect(Array.from(masked)).toEqual([-1, -1, 0, 1, 0, 1]);
  });

  it('rejects an expert index outside [0, E)', () => {
    expect(() =>
      bufferPositions({ expertIndex: [0, 3], tokens: 2, k: 1, numExperts: 3, capacity: 1 }),
    ).toThrow('bufferPositions: expert index 3 at token 1 is outside [0, 3).');
  });
});
