import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { shardFromEnvironment } from './flags/shard.js';
import { run } from './cli.test.helpers.js';

const EVAL = [
  '--model',
  'Xenova/clip-vit-base-patch32',
  '--data',
  '/work/imagenet/val',
  '--templates',
  'a photo of a {}.',
];

/** The Kubernetes objects `zero-shot cluster k8s` prints, parsed by a YAML library. */
async function k8s(...flags: string[]) {
  const r = await run(['cluster', 'k8s', '--image', 'registry.example/zero-shot:1', ...flags, '--', ...EVAL]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const docs = parseAllDocuments(r.out);
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('zero-shot cluster k8s', () => {
  it('prints an Indexed Job of N pods and a merge Job sharing one volume', async () => {
    const [evalJob, mergeJob, ...rest] = await k8s(
      '--shards',
      '8',
      '--name',
      'b32-imagenet',
      '--cpus',
      '4',
      '--mem',
      '6G',
    );
    expect(rest).toEqual([]);
    expect(evalJob).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'b32-imagenet' },
    });
    expect(evalJob.spec).toMatchObject({ completionMode: 'Indexed', completions: 8, parallelism: 8 });
    const pod = evalJob.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers).toHaveLength(1);
    const [c] = pod.containers;
    expect(c.image).toBe('registry.example/zero-shot:1');
    expect(c.command).toEqual(['zero-shot']);
    expect(c.args).toEqual([
      'eval',
      ...EVAL,
      '--cache-dir',
      '/work/cache',
      '--shard',
      'auto',
      '--out',
      '/work/results-{shard}.json',
    ]);
    expect(c.env).toEqual([{ name: 'MOEVL_SHARD_COUNT', value: '8' }]);
    expect(c.resources.requests).toEqual({ cpu: '4', memory: '6Gi' });
    expect(c.volumeMounts).toEqual([{ name: 'work', mountPath: '/work' }]);
    expect(pod.volumes).toEqual([
      { name: 'work', persistentVolumeClaim: { claimName: 'b32-imagenet-work' } },
    ]);

    // What each pod's --shard auto makes of the environment Kubernetes and the manifest give it.
    for (const index of [0, 7]) {
      const env = {
        JOB_COMPLETION_INDEX: String(index),
        ...Object.fromEntries(
          (c.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]),
        ),
      };
      expect(shardFromEnvironment(env)).toEqual({ index, count: 8, source: 'kubernetes' });
    }

    expect(mergeJob).toMatchObject({ kind: 'Job', metadata: { name: 'b32-imagenet-merge' } });
    expect(mergeJob.spec.completionMode).toBeUndefined();
    const m = mergeJob.spec.template.spec;
    expect(m.containers[0].args).toEqual([
      'merge',
      '/work/results-*.json',
      '--wait',
      '86400',
      '--out',
      '/work/results.json',
    ]);
    expect(m.containers[0].volumeMounts).toEqual(c.volumeMounts);
    expect(m.volumes).toEqual(pod.volumes);
  });

  it('keeps every string a string, and takes the mount path, claim, namespace and command', async () => {
    const [evalJob, mergeJob] = await k8s(
      '--shards',
      '2',
      '--work-dir',
      '/mnt/shared',
      '--pvc',
      'nfs-rwx',
      '--namespace',
      'ml',
      '--command',
      'npx zero-shot',
      '--merge-wait',
      '600',
    );
    expect(evalJob.metadata.namespace).toBe('ml');
    expect(mergeJob.metadata.namespace).toBe('ml');
    const c = evalJob.spec.template.spec.containers[0];
    expect(c.command).toEqual(['npx', 'zero-shot']);
    expect(c.args).toContain('/mnt/shared/results-{shard}.json');
    expect(c.volumeMounts[0].mountPath).toBe('/mnt/shared');
    expect(evalJob.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('nfs-rwx');
    expect(c.env[0].value).toBe('2'); // a string, as Kubernetes requires of env values
    expect(mergeJob.spec.template.spec.containers[0].args).toContain('600');
  });
});

describe('zero-shot cluster slurm', () => {
  it('prints a driver that submits the array, then the merge after it', async () => {
    const r = await run([
      'cluster',
      'slurm',
      '--shards',
      '4',
      '--work-dir',
      '/shared/run',
      '--command',
      'zero-shot',
      '--time',
      '1:00:00',
      '--',
      ...EVAL,
    ]);
    expect(r.code, r.err).toBe(0);
    const s = r.out;
    expect(s).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(s).toContain('#SBATCH --array=0-3\n');
    expect(s).toContain('#SBATCH --output=/shared/run/logs/zero-shot-eval-%A_%a.out\n');
    expect(s).toContain('#SBATCH --cpus-per-task=2\n');
    expect(s).toContain('#SBATCH --time=1:00:00\n');
    expect(s).toContain(
      "zero-shot eval --model Xenova/clip-vit-base-patch32 --data /work/imagenet/val --templates 'a photo of a {}.' " +
        '--cache-dir /shared/run/cache --shard auto --out \'/shared/run/results-{shard}.json\' "${resume[@]}"\n',
    );
    expect(s).toContain('merge=$(sbatch --parsable --dependency=afterok:$array --kill-on-invalid-dep=yes');
    expect(s).toContain(
      "zero-shot merge '/shared/run/results-*.json' --wait 300 --out /shared/run/results.json\n",
    );
    expect(s).not.toContain('classifier-only');
    const withClassifier = await run([
      'cluster',
      'slurm',
      '--shards',
      '4',
      '--classifier-job',
      '--',
      ...EVAL,
    ]);
    expect(withClassifier.out).toContain('--classifier-only\n');
    expect(withClassifier.out).toContain('array=$(sbatch --parsable --dependency=afterok:$classifier');
  });

  it.each([
    [['slurm', '--', ...EVAL], /needs --shards N/],
    [['slurm', '--shards', '2'], /needs the eval arguments after --/],
    [['slurm', '--shards', '2', '--', ...EVAL, '--shard', '0/2'], /give --shard, which the job sets/],
    [['slurm', '--shards', '2', '--', ...EVAL, '--out', 'r.json'], /give --out, which the job sets/],
    [
      ['slurm', '--shards', '2', '--', ...EVAL, '--tempaltes', 'x'],
      /the eval arguments after --: .*tempaltes/,
    ],
    [['slurm', '--shards', '2', '--', '--model', 'M'], /need --data/],
    [['slurm', '--shards', '2', '--', ...EVAL, '--predictions', 'p.csv'], /put \{shard\} in it/],
    [['slurm', '--shards', '2', '--image', 'x', '--', ...EVAL], /--image do not apply to slurm/],
    [['k8s', '--shards', '2', '--', ...EVAL], /needs --image IMAGE/],
    [
      ['k8s', '--shards', '2', '--image', 'i', '--name', 'Bad_Name', '--', ...EVAL],
      /--name must be lower-case/,
    ],
    [['k8s', '--shards', '2', '--image', 'i', '--work-dir', 'rel', '--', ...EVAL], /an absolute path/],
    [['pbs', '--shards', '2', '--', ...EVAL], /the scheduler must be one of slurm, k8s/],
  ])('refuses %j', async (args, message) => {
    const r = await run(['cluster', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
