import { describe, expect, it } from 'vitest';
import { denseLossOf, type TaskSpec, validateTaskSpecs } from './task_spec.js';

describe('validateTaskSpecs', () => {
  it('accepts classification and dense tasks', () => {
    expect(() =>
      validateTaskSpecs([
        { name: 'class', kind: 'classification', numClasses: 10 },
        { name: 'depth', kind: 'dense', outChannels: 1 },
        { name: 'normals', kind: 'dense', outChannels: 3, loss: 'cosine' },
      ]),
    ).not.toThrow();
  });

  it('names the task and the problem', () => {
    const bad = (specs: unknown[]) => () => validateTaskSpecs(specs as TaskSpec[]);
    expect(bad([])).toThrow(/at least one task/);
    expect(bad([{ name: '', kind: 'dense', outChannels: 1 }])).toThrow(/Task 0: name must be a non-empty/);
    expect(
      bad([
        { name: 'a', kind: 'dense', outChannels: 1 },
        { name: 'a', kind: 'classification', numClasses: 2 },
      ]),
    ).toThrow(/Task "a" is defined twice/);
    expect(bad([{ name: 'cls', kind: 'classification', numClasses: 0 }])).toThrow(
      /Task "cls": numClasses must be a positive integer, got 0/,
    );
    expect(bad([{ name: 'd', kind: 'dense', outChannels: 1.5 }])).toThrow(/Task "d": outChannels/);
    expect(bad([{ name: 'd', kind: 'dense', outChannels: 1, loss: 'l2' }])).toThrow(
      /Task "d": loss must be one of l1, mse, cosine, got "l2"/,
    );
    expect(bad([{ name: 'seg', kind: 'segmentation' }])).toThrow(/Task "seg": kind must be/);
  });

  it('defaults dense tasks to L1', () => {
    expect(denseLossOf({ name: 'd', kind: 'dense', outChannels: 1 })).toBe('l1');
    expect(denseLossOf({ name: 'd', kind: 'dense', outChannels: 1, loss: 'mse' })).toBe('mse');
  });
});
