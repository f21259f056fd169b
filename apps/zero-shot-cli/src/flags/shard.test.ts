import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { fillShardPlaceholder, formatShardIndex, resolveShardFlags, shardFromEnvironment } from './shard.js';

/** What Slurm 22.05 sets in task `id` of `sbatch --array=min-max:step` (checked on a real single-node Slurm). */
function slurmArray(id: number, min: number, max: number, step = 1): Record<string, string> {
  return {
    SLURM_JOB_ID: '42',
    SLURM_ARRAY_JOB_ID: '41',
    SLURM_ARRAY_TASK_ID: String(id),
    SLURM_ARRAY_TASK_MIN: String(min),
    SLURM_ARRAY_TASK_MAX: String(max),
    SLURM_ARRAY_TASK_STEP: String(step),
    SLURM_ARRAY_TASK_COUNT: String(Math.floor((max - min) / step) + 1),
  };
}

function refused(run: () => unknown, message: RegExp): void {
  expect(run).toThrow(UsageError);
  expect(run).toThrow(message);
}

describe('--shard auto: the shard from the environment', () => {
  it('reads a Slurm job array task, relative to the first task id and the step', () => {
    expect(shardFromEnvironment(slurmArray(0, 0, 2))).toEqual({ index: 0, count: 3, source: 'slurm' });
    expect(shardFromEnvironment(slurmArray(2, 0, 2))).toEqual({ index: 2, count: 3, source: 'slurm' });
    expect(shardFromEnvironment(slurmArray(5, 1, 8))).toEqual({ index: 4, count: 8, source: 'slurm' });
    expect(shardFromEnvironment(slurmArray(14, 10, 20, 2))).toEqual({ index: 2, count: 6, source: 'slurm' });
    // Older Slurm sets no MAX/STEP: ID − MIN over COUNT.
    const { SLURM_ARRAY_TASK_MAX: _max, SLURM_ARRAY_TASK_STEP: _step, ...bare } = slurmArray(3, 1, 4);
    expect(shardFromEnvironment(bare)).toEqual({ index: 2, count: 4, source: 'slurm' });
  });

  it('refuses Slurm arrays whose task ids are no shard indices', () => {
    // --array=1,4,9: COUNT 3, but MIN..MAX spans 9 ids.
    refused(
      () => shardFromEnvironment({ ...slurmArray(4, 1, 9), SLURM_ARRAY_TASK_COUNT: '3' }),
      /the job array is not a range .*SLURM_ARRAY_TASK_COUNT=3.*submit it as --array=0-2/,
    );
    refused(
      () => shardFromEnvironment({ ...slurmArray(0, 0, 2), SLURM_ARRAY_TASK_ID: '7' }),
      /SLURM_ARRAY_TASK_ID=7 is not a task of the array/,
    );
    refused(
      () => shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '1' }),
      /SLURM_ARRAY_TASK_ID=1 is set but SLURM_ARRAY_TASK_MIN or SLURM_ARRAY_TASK_COUNT is not/,
    );
    refused(
      () => shardFromEnvironment({ ...slurmArray(0, 0, 2), SLURM_ARRAY_TASK_COUNT: 'three' }),
      /SLURM_ARRAY_TASK_COUNT must be an integer ≥ 1, got "three"/,
    );
  });

  it('reads a Kubernetes Indexed Job pod, with the count from --shards or the manifest', () => {
    const pod = { JOB_COMPLETION_INDEX: '3' };
    expect(shardFromEnvironment(pod, 4)).toEqual({ index: 3, count: 4, source: 'kubernetes' });
    expect(shardFromEnvironment({ ...pod, MOEVL_SHARD_COUNT: '5' })).toEqual({
      index: 3,
      count: 5,
      source: 'kubernetes',
    });
    expect(shardFromEnvironment({ ...pod, MOEVL_SHARD_COUNT: '5' }, 5).count).toBe(5);
    refused(
      () => shardFromEnvironment(pod),
      /JOB_COMPLETION_INDEX=3 is set but not the shard count.*--shards N or set MOEVL_SHARD_COUNT/,
    );
    refused(
      () => shardFromEnvironment({ ...pod, MOEVL_SHARD_COUNT: '5' }, 4),
      /--shards 4 contradicts MOEVL_SHARD_COUNT=5/,
    );
    refused(() => shardFromEnvironment(pod, 3), /JOB_COMPLETION_INDEX=3 is not below the shard count 3/);
    refused(
      () => shardFromEnvironment({ JOB_COMPLETION_INDEX: '-1' }, 3),
      /JOB_COMPLETION_INDEX must be an integer ≥ 0/,
    );
  });

  it('reads MOEVL_SHARD=I/N', () => {
    expect(shardFromEnvironment({ MOEVL_SHARD: '1/2' })).toEqual({ index: 1, count: 2, source: 'env' });
    refused(
      () => shardFromEnvironment({ MOEVL_SHARD: '2/2' }),
      /MOEVL_SHARD must be "i\/n" with 0 ≤ i < n, got "2\/2"/,
    );
    refused(
      () => shardFromEnvironment({ MOEVL_SHARD: '1/2' }, 3),
      /--shards 3 contradicts the 2 shards of MOEVL_SHARD/,
    );
  });

  it('accepts sources that agree and refuses ones that do not', () => {
    expect(shardFromEnvironment({ ...slurmArray(1, 0, 2), MOEVL_SHARD: '1/3' })).toEqual({
      index: 1,
      count: 3,
      source: 'slurm',
    });
    refused(
      () =>
        shardFromEnvironment({ ...slurmArray(1, 0, 2), JOB_COMPLETION_INDEX: '0', MOEVL_SHARD_COUNT: '3' }),
      /two different shards, 1\/3 \(slurm\) and 0\/3 \(kubernetes\)/,
    );
    refused(
      () => shardFromEnvironment(slurmArray(1, 0, 2), 4),
      /--shards 4 contradicts the 3 shards of the slurm job/,
    );
  });

  it('names every variable it reads when none is set', () => {
    let message = '';
    try {
      shardFromEnvironment({ HOME: '/root' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of [
      'SLURM_ARRAY_TASK_ID',
      'SLURM_ARRAY_TASK_MIN',
      'SLURM_ARRAY_TASK_COUNT',
      'JOB_COMPLETION_INDEX',
      'MOEVL_SHARD_COUNT',
      'MOEVL_SHARD=I/N',
      '--shard I/N',
    ])
      expect(message).toContain(name);
    refused(() => shardFromEnvironment({ SLURM_JOB_ID: '9' }), /this is a Slurm job, not a job array/);
  });
});

describe('resolveShardFlags', () => {
  it('keeps --shard I/N, recording it came from the flag', () => {
    expect(resolveShardFlags({ shard: '1/4' }, {})).toEqual({ index: 1, count: 4, source: 'flag' });
    expect(resolveShardFlags({}, slurmArray(0, 0, 2))).toBeUndefined();
    expect(resolveShardFlags({ shard: 'auto' }, slurmArray(2, 0, 2))).toEqual({
      index: 2,
      count: 3,
      source: 'slurm',
    });
    expect(resolveShardFlags({ shard: 'auto', shards: '4' }, { JOB_COMPLETION_INDEX: '1' })?.count).toBe(4);
    refused(
      () => resolveShardFlags({ shard: '1/4', shards: '4' }, {}),
      /--shards N is the shard count for --shard auto/,
    );
    refused(() => resolveShardFlags({ shard: 'auto', shards: '0' }, {}), /--shards must be an integer ≥ 1/);
  });
});

describe('{shard} in paths', () => {
  it('is the index, zero-padded to the width of the largest one', () => {
    expect(formatShardIndex({ index: 2, count: 3 })).toBe('2');
    expect(formatShardIndex({ index: 7, count: 12 })).toBe('07');
    expect(formatShardIndex({ index: 9, count: 10 })).toBe('9');
    expect(formatShardIndex({ index: 3, count: 101 })).toBe('003');
    expect(fillShardPlaceholder('--out', 'r/{shard}/results-{shard}.json', { index: 7, count: 12 })).toBe(
      'r/07/results-07.json',
    );
    expect(fillShardPlaceholder('--out', 'results.json', undefined)).toBe('results.json');
    refused(
      () => fillShardPlaceholder('--out', 'results-{shard}.json', undefined),
      /--out results-\{shard\}.json holds \{shard\}/,
    );
  });
});
