import { expect, it } from 'vitest';
import { describeEachBackend } from '../testing/index.js';
import { runSelfCheck } from './self_check.js';

describeEachBackend('runSelfCheck', (backend) => {
  it('learns the toy task and frees every tensor', () => {
    const steps: number[] = [];
    const r = runSelfCheck({ steps: 25, onStep: (s) => steps.push(s) });
    expect(r.backend).toBe(backend);
    expect(steps).toHaveLength(25);
    expect(r.losses[0]).toBeGreaterThan(0.4);
    expect(r.losses[24]).toBeLessThan(0.1);
    expect(r.leakedTensors).toBe(0);
  });
});

it('rejects a bad step count', () => {
  expect(() => runSelfCheck({ steps: 0 })).toThrow('runSelfCheck: steps must be a positive integer, got 0.');
});
