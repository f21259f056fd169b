import { SHARD_COUNT_ENV } from '../flags/shard.js';
import { type ClusterJob, mergeTaskArgs, resultsFile, shardTaskArgs } from './job.js';
import { toYaml } from './yaml.js';

export interface KubernetesOptions {
  /** A container image with zero-shot installed. */
  image: string;
  /** The command that starts zero-shot in the image, as exec words (no shell). */
  command: string[];
  /** A ReadWriteMany PersistentVolumeClaim, mounted at the work dir in every pod. */
  claim: string;
  namespace?: string;
}

const VOLUME = 'work';

function labels(job: ClusterJob, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'zero-shot',
    'app.kubernetes.io/instance': job.name,
    'app.kubernetes.io/component': component,
  };
}

function podSpec(
  job: ClusterJob,
  opts: KubernetesOptions,
  container: { name: string; args: string[]; env?: Array<{ name: string; value: string }>; cpu: string },
) {
  const requests: Record<string, string> = { cpu: container.cpu };
  if (job.mem && container.name !== 'merge') requests.memory = `${job.mem.amount}${job.mem.unit}i`;
  return {
    restartPolicy: 'Never',
    containers: [
      {
        name: container.name,
        image: opts.image,
        command: opts.command,
        args: container.args,
        env: container.env,
        resources: { requests },
        volumeMounts: [{ name: VOLUME, mountPath: job.workDir }],
      },
    ],
    volumes: [{ name: VOLUME, persistentVolumeClaim: { claimName: opts.claim } }],
  };
}

/**
 * An Indexed Job (one pod per shard: JOB_COMPLETION_INDEX is the index, MOEVL_SHARD_COUNT the count)
 * and a merge Job that polls the shared volume for the shards. Kubernetes has no dependency between Jobs,
 * so the merge starts with the array and waits (`merge --wait`) instead.
 */
export function kubernetesManifest(job: ClusterJob, opts: KubernetesOptions): string {
  const metadata = (name: string, component: string) => ({
    name,
    ...(opts.namespace !== undefined && { namespace: opts.namespace }),
    labels: labels(job, component),
  });
  const evalJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(job.name, 'eval'),
    spec: {
      completionMode: 'Indexed',
      completions: job.shards,
      parallelism: job.shards,
      backoffLimit: job.shards,
      template: {
        metadata: { labels: labels(job, 'eval') },
        spec: podSpec(job, opts, {
          name: 'eval',
          args: shardTaskArgs(job),
          env: [{ name: SHARD_COUNT_ENV, value: String(job.shards) }],
          cpu: String(job.cpus),
        }),
      },
    },
  };
  const mergeJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(`${job.name}-merge`, 'merge'),
    spec: {
      backoffLimit: 1,
      template: {
        metadata: { labels: labels(job, 'merge') },
        spec: podSpec(job, opts, { name: 'merge', args: mergeTaskArgs(job), cpu: '250m' }),
      },
    },
  };
  const header = [
    `# zero-shot cluster k8s: ${job.name}, ${job.shards} shards.`,
    '#   kubectl apply -f THIS_FILE',
    `#   kubectl wait --for=condition=complete --timeout=${job.mergeWait}s job/${job.name}-merge`,
    `# The PersistentVolumeClaim ${opts.claim} (ReadWriteMany) is mounted at ${job.workDir} in every pod: results,`,
    `# the classifier cache, and the merged ${resultsFile(job)}. The data and model paths in the eval`,
    '# arguments are as the pods see them (on that volume, or in the image).',
  ];
  return `${header.join('\n')}\n${toYaml(evalJob)}---\n${toYaml(mergeJob)}`;
}
