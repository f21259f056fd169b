import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COLOURS,
  STACK_TRACE,
  TINY_CLIP,
  colourDataset,
  pngSquare,
  removeTempDirs,
  run,
  tempDir,
} from './cli.test.helpers.js';

afterAll(removeTempDirs);

/** A flag naming a file, the file's name, and its text. */
type FileFlag = [flag: string, name: string, text: string];

/** `eval` of the tiny CLIP fixture on one square per colour, with the given --classes/--templates files. */
async function evalWith(files: FileFlag[], ...extra: string[]) {
  const ds = await colourDataset('folders', { perClass: 1 });
  const dir = await tempDir('lists');
  const flags: string[] = [];
  for (const [flag, name, text] of files) {
    await writeFile(join(dir, name), text);
    flags.push(flag, join(dir, name));
  }
  return run([
    'eval',
    '--model',
    TINY_CLIP,
    '--data',
    ds.root,
    '--no-cache',
    '--quiet',
    '--json',
    ...flags,
    ...extra,
  ]);
}

describe('CLIP_benchmark-style JSON list files on the command line', () => {
  it('evaluates with a pretty-printed JSON class list and a dataset-keyed {c} templates file', async () => {
    const classes = JSON.stringify(['red', 'green', 'blue', 'yellow'], null, 2);
    const templates = JSON.stringify({ colours: ['a photo of a {c}.', 'a {c} square.'], other: ['{c}'] });
    const r = await evalWith(
      [
        ['--classes', 'classes.json', classes],
        ['--templates', 'templates.json', templates],
      ],
      '--dataset-name',
      'colours',
    );
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({ classes: 4, templates: 2, templatesName: 'templates.json:colours' });
    expect(json.metrics.top1).toBe(1);
  });

  it('exits 2 with one line on stderr for a malformed JSON class list', async () => {
    const r = await evalWith([['--classes', 'classes.json', '[\n  "red",\n  "green",\n]\n']]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(
      /^zero-shot: --classes: .*classes\.json is not valid JSON \(a trailing comma.* at line 3, column 10\); write a JSON list of names/,
    );
    expect(r.err).not.toMatch(STACK_TRACE);
  });

  it('refuses a --dataset-name that no file is keyed by', async () => {
    const r = await evalWith(
      [['--classes', 'classes.txt', 'red\ngreen\nblue\nyellow\n']],
      '--dataset-name',
      'cifar10',
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--dataset-name cifar10 picks a list from a JSON object file/);
  });

  it('refuses duplicate --labels in classify before loading a model', async () => {
    const image = join(await tempDir('classify'), 'red.png');
    await writeFile(image, pngSquare(COLOURS.red));
    const r = await run(['classify', image, '--labels', 'red,red,green', '--model', TINY_CLIP, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--labels lists "red" more than once/);
  });
});
