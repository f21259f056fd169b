import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTemplatesFlag } from './templates.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moevl-cli-templates-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('resolveTemplatesFlag', () => {
  it("reads CLIP_benchmark's {c} templates from a dataset-keyed JSON object", async () => {
    const path = join(dir, 'en_zeroshot_classification_templates.json');
    await writeFile(
      path,
      JSON.stringify({
        cifar10: ['a photo of a {c}.', 'a blurry photo of a {c}.'],
        mnist: ['a photo of the number: "{c}".'],
      }),
    );
    expect(await resolveTemplatesFlag(path, { datasetName: 'cifar10' })).toEqual({
      templates: ['a photo of a {c}.', 'a blurry photo of a {c}.'],
      name: 'en_zeroshot_classification_templates.json:cifar10',
      datasetKey: 'cifar10',
    });
  });

  it('takes {c} and {} alike in a literal template and in a one-line JSON list', async () => {
    expect(await resolveTemplatesFlag('a {c} square.')).toEqual({
      templates: ['a {c} square.'],
      name: 'custom',
    });
    const path = join(dir, 'open_clip.json');
    await writeFile(path, '["a photo of {}.", "a picture of the {c}."]');
    expect((await resolveTemplatesFlag(path)).templates).toEqual(['a photo of {}.', 'a picture of the {c}.']);
  });

  it('still refuses a template without a placeholder', async () => {
    const path = join(dir, 'no-placeholder.json');
    await writeFile(path, '["a photo of {c}.", "a photo"]');
    await expect(resolveTemplatesFlag(path)).rejects.toThrow(
      /^--templates: 1 template\(s\) of .*no-placeholder\.json have no \{\} placeholder \(nor \{c\}\) for the class name \(first: "a photo"\)\.$/,
    );
  });
});
