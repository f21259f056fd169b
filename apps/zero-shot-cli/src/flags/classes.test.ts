import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '../errors.js';
import { parseLabelsFlag, resolveClassesFlag } from './classes.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moevl-cli-classes-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('class flags', () => {
  it('reads a CLIP_benchmark en_classnames.json list, labelled with its key', async () => {
    const path = join(dir, 'en_classnames.json');
    await writeFile(
      path,
      JSON.stringify({ cifar10: ['airplane', 'automobile'], mnist: ['0', '1'] }, null, 2),
    );
    expect(await resolveClassesFlag(path, { datasetName: 'mnist' })).toEqual({
      option: ['0', '1'],
      names: ['0', '1'],
      label: 'en_classnames.json:mnist',
      datasetKey: 'mnist',
    });
  });

  it('refuses a --labels list that repeats a class (its probability would be split in two rows)', () => {
    expect(parseLabelsFlag('red, green').names).toEqual(['red', 'green']);
    let err: unknown;
    try {
      parseLabelsFlag('red,red,green,green,blue');
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe(
      '--labels lists "red", "green" more than once; give each class once.',
    );
    expect(classifyError(err).exitCode).toBe(2);
  });
});
