import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '../errors.js';
import { type ListFileOptions, readListFile } from './list_files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moevl-cli-lists-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const CLASSES: ListFileOptions = { flag: '--classes', noun: 'name' };

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The error a read fails with, checked to be a one-line exit-2 input error. */
async function failure(path: string, options: ListFileOptions = CLASSES): Promise<string> {
  const err = await readListFile(path, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).name).toBe('InputError');
  expect(classifyError(err).exitCode).toBe(2);
  expect((err as Error).message).not.toContain('\n');
  expect((err as Error).message).toMatch(/^--classes: /);
  return (err as Error).message;
}

const DICT = JSON.stringify({
  cifar10: ['airplane', 'bird'],
  imagenet1k: ['tench', 'goldfish'],
  mnist: ['0'],
});

describe('readListFile', () => {
  it('reads a JSON list on one line', async () => {
    const path = await file('one-line.json', '["a photo of {}.", "a picture of the {}."]');
    expect(await readListFile(path, CLASSES)).toEqual({
      entries: ['a photo of {}.', 'a picture of the {}.'],
      format: 'json',
    });
  });

  it('reads a pretty-printed JSON list, keeping each string exactly', async () => {
    const path = await file('pretty.json', JSON.stringify(['blue', 'green', 'red '], null, 2));
    expect((await readListFile(path, CLASSES)).entries).toEqual(['blue', 'green', 'red ']);
  });

  it('reads the only list of a CLIP_benchmark dict without --dataset-name', async () => {
    const path = await file('one-key.json', '{"cifar10": ["airplane", "automobile"]}');
    expect(await readListFile(path, CLASSES)).toEqual({
      entries: ['airplane', 'automobile'],
      format: 'json',
      datasetKey: 'cifar10',
    });
  });

  it('picks a list of a several-key dict with --dataset-name', async () => {
    const path = await file('dict.json', DICT);
    const read = await readListFile(path, { ...CLASSES, datasetName: 'imagenet1k' });
    expect(read).toMatchObject({ entries: ['tench', 'goldfish'], datasetKey: 'imagenet1k' });
  });

  it('lists the keys of a several-key dict read without --dataset-name', async () => {
    const path = await file('dict.json', DICT);
    expect(await failure(path)).toBe(
      `--classes: ${path} has lists for 3 datasets (cifar10, imagenet1k, mnist); pick one with --dataset-name NAME.`,
    );
  });

  it('lists the keys, and the likely one, for a --dataset-name not in the dict', async () => {
    const path = await file('dict.json', DICT);
    expect(await failure(path, { ...CLASSES, datasetName: 'cifar' })).toBe(
      `--classes: ${path} has no "cifar" list (did you mean "cifar10"?); ` +
        'pass --dataset-name with one of: cifar10, imagenet1k, mnist.',
    );
    expect(await failure(path, { ...CLASSES, datasetName: 'sun397' })).not.toMatch(/did you mean/);
  });

  it('says where malformed JSON breaks and which formats are accepted', async () => {
    const path = await file('trailing.json', '[\n  "blue",\n  "green",\n]\n');
    expect(await failure(path)).toBe(
      `--classes: ${path} is not valid JSON (a trailing comma, which JSON does not allow, at line 3, ` +
        'column 10); write a JSON list of names, a JSON object keyed by dataset name, or a text file with ' +
        'one name per line.',
    );
    const quotes = await file('single-quotes.json', "['blue']");
    expect(await failure(quotes)).toMatch(/unexpected ''' where a value should be at line 1, column 2\)/);
    expect(await failure(await file('empty.json', ''))).toMatch(/the text ends where a value should be/);
  });

  it.each([
    ['a number', '42', /the JSON in .* is a number, not a list or an object of lists; write a JSON list/],
    ['an empty list', '[]', /the JSON in .* is an empty list; write/],
    ['numbers in the list', '["blue", 3]', /item 2 of the JSON in .* is a number, not a string; write/],
    ['a nested list', '[["blue"]]', /item 1 of the JSON in .* is a list, not a string/],
    ['an empty string', '["blue", " "]', /item 2 of the JSON in .* is an empty string/],
    ['an empty object', '{}', /the JSON in .* is an empty object/],
    [
      'a nested object',
      '{"en": {"cifar10": ["a"]}}',
      /the "en" entry of .* is an object, not a list of names/,
    ],
    ['a non-string in a keyed list', '{"cifar10": [null]}', /item 1 of the "cifar10" list in .* is null/],
  ])('refuses JSON of the wrong shape: %s', async (_name, text, message) => {
    expect(await failure(await file('shape.json', text))).toMatch(message);
  });

  it('reads a .txt file one entry per line, without comments or blank lines', async () => {
    const path = await file('classes.txt', '\uFEFF# colours\n  blue \n\ngreen\r\nred\n');
    expect(await readListFile(path, CLASSES)).toEqual({ entries: ['blue', 'green', 'red'], format: 'lines' });
  });

  it('reads a text file that starts like JSON as JSON, and refuses it when it is not', async () => {
    const good = await file('list.txt', '  ["blue", "green"]\n');
    expect((await readListFile(good, CLASSES)).entries).toEqual(['blue', 'green']);
    const bad = await file('bracket.txt', '[blue]\ngreen\n');
    expect(await failure(bad)).toMatch(
      /^--classes: .*bracket\.txt starts with '\[' as JSON does but is not valid JSON \(unexpected 'b' where a value should be at line 1, column 2\); write/,
    );
  });

  it('names a missing file, and a text file with no entries', async () => {
    expect(await failure(join(dir, 'nope.json'))).toMatch(
      /^--classes: the file .*nope\.json does not exist; pass a JSON list of names, a JSON object keyed by dataset name, or a text file with one name per line\.$/,
    );
    expect(await failure(await file('blank.txt', '# nothing\n\n'))).toMatch(
      /blank\.txt has no entries; write/,
    );
  });
});
