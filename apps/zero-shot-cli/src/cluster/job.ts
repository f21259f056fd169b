import { posix } from 'node:path';

/**
 * What `zero-shot cluster` prints jobs for, whatever the scheduler: N tasks of one `zero-shot eval
 * --shard auto` writing `results-{shard}.json` into a folder every task sees, a merge of them into
 * `results.json`, and (optionally) a job that builds the classifier first. The scheduler files only say
 * how to start these commands; what they run is decided here once.
 */
export interface ClusterJob {
  name: string;
  shards: number;
  /** The shared folder (absolute, as the tasks see it): results, logs, the classifier cache. */
  workDir: string;
  /** The user's `zero-shot eval` arguments, checked, without --shard, --out or --work-dir. */
  evalArgs: string[];
  /** Whether the eval arguments choose the classifier cache themselves (--cache-dir, --no-cache). */
  ownCache: boolean;
  /** CPUs per task. */
  cpus: number;
  /** Memory per task, in MiB or GiB. */
  mem?: { amount: number; unit: 'M' | 'G' };
  /** How long the merge polls for the shards (`merge --wait`). */
  mergeWait: number;
}

export const RESULTS_GLOB = 'results-*.json';

export function resultsFile(job: ClusterJob): string {
  return posix.join(job.workDir, 'results.json');
}

export function cacheArgs(job: ClusterJob): string[] {
  return job.ownCache ? [] : ['--cache-dir', posix.join(job.workDir, 'cache')];
}

/** The arguments of each task: the shard from the scheduler, its result file named by the index. */
export function shardTaskArgs(job: ClusterJob): string[] {
  return [
    'eval',
    ...job.evalArgs,
    ...cacheArgs(job),
    '--shard',
    'auto',
    '--out',
    posix.join(job.workDir, 'results-{shard}.json'),
  ];
}

/** The arguments of the job that builds the classifier ahead of the tasks. */
export function classifierTaskArgs(job: ClusterJob): string[] {
  return ['eval', ...job.evalArgs, ...cacheArgs(job), '--classifier-only'];
}

/** The merge: the glob is expanded by `zero-shot merge` itself, and never matches results.json. */
export function mergeTaskArgs(job: ClusterJob): string[] {
  return [
    'merge',
    posix.join(job.workDir, RESULTS_GLOB),
    '--wait',
    String(job.mergeWait),
    '--out',
    resultsFile(job),
  ];
}
