import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@moevl/core';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { indexRecords, readRecordBytes } from './data_file.js';
import { parseCsvRecord } from './csv_table.js';

/**
 * The CSV record parser and the byte-offset index: RFC 4180 quoting, CRLF, blank lines, separators,
 * and — on a generated file of a few MiB — records that cross the indexer's 1 MiB read chunks,
 * compared with a straightforward whole-text parser.
 */

afterAll(removeTempFolders);

describe('parseCsvRecord', () => {
  it('splits on the separator, honours quotes only at a field start, and stops at the record end', () => {
    expect(parseCsvRecord('a\tb\tc\n', '\t')).toEqual(['a', 'b', 'c']);
    expect(parseCsvRecord('a,"b, c",d\r\nnext', ',')).toEqual(['a', 'b, c', 'd']);
    expect(parseCsvRecord('"he said ""hi""","line\nbreak"', ',')).toEqual(['he said "hi"', 'line\nbreak']);
    expect(parseCsvRecord('a "quoted" word,x', ',')).toEqual(['a "quoted" word', 'x']);
    expect(parseCsvRecord(',,', ',')).toEqual(['', '', '']);
    expect(parseCsvRecord('"open', ',')).toEqual(['open']);
    expect(parseCsvRecord('é\tü\r', '\t')).toEqual(['é', 'ü']);
  });
});

/** Whole-text reference: records of fields, blank lines dropped (the generator makes only valid CSV). */
function referenceRecords(text: string, sep: string): string[][] {
  const out: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') {
      quoted = true;
      any = true;
    } else if (ch === sep) {
      fields.push(field);
      field = '';
      any = true;
    } else if (ch === '\n') {
      if (field.endsWith('\r')) field = field.slice(0, -1);
      if (any || field !== '') out.push([...fields, field]);
      fields = [];
      field = '';
      any = false;
    } else field += ch;
  }
  if (any || field !== '') out.push([...fields, field]);
  return out;
}

function randomCsv(rng: Rng, rows: number, sep: string): string {
  const alphabet = ['a', 'b', 'Z', ' ', 'é', '漢', '😀', sep, '"', '\n', '\r\n', '.', '/'];
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    if (rng.uniform() < 0.03) lines.push(''); // blank lines (a lone \r before \r\n is one too: see errors.test.ts)
    const n = 2 + rng.int(3);
    const fields: string[] = [];
    for (let f = 0; f < n; f++) {
      let s = '';
      const len = rng.int(rng.uniform() < 0.01 ? 3000 : 40);
      for (let k = 0; k < len; k++) s += alphabet[rng.int(rng.uniform() < 0.9 ? 7 : alphabet.length)];
      const special = /["\n\r]/.test(s) || s.includes(sep);
      fields.push(special || rng.uniform() < 0.2 ? `"${s.replaceAll('"', '""')}"` : s);
    }
    lines.push(fields.join(sep));
  }
  return lines.join(rng.uniform() < 0.5 ? '\n' : '\r\n') + (rng.uniform() < 0.5 ? '\n' : '');
}

describe('indexRecords', () => {
  it('finds every record of a multi-MiB CSV, across read chunks, as the whole-text parser does', async () => {
    const dir = await tempFolder();
    const rng = new Rng(5);
    for (const sep of [',', '\t']) {
      const text = randomCsv(rng, 10_000, sep);
      const path = join(dir, `fuzz${sep === ',' ? 'c' : 't'}.csv`);
      await writeFile(path, text);
      const handle = await open(path);
      try {
        const size = (await handle.stat()).size;
        expect(size).toBeGreaterThan(2 ** 20); // more than one read chunk
        const index = await indexRecords(
          { handle, size },
          { quoted: true, separator: sep.charCodeAt(0), path },
        );
        const want = referenceRecords(text, sep);
        expect(index.count).toBe(want.length);
        const decoder = new TextDecoder();
        for (let i = 0; i < index.count; i++) {
          const got = parseCsvRecord(decoder.decode(await readRecordBytes(handle, index, i)), sep);
          if (JSON.stringify(got) !== JSON.stringify(want[i]))
            expect({ i, got }).toEqual({ i, got: want[i] });
        }
      } finally {
        await handle.close();
      }
    }
  });

  it('JSONL lines: only newlines count, blank lines are not records', async () => {
    const dir = await tempFolder();
    const path = join(dir, 'a.jsonl');
    await writeFile(path, '{"a": "x\\"y"}\n\n  \r\n{"b": 1}\r\n');
    const handle = await open(path);
    const index = await indexRecords({ handle, size: (await handle.stat()).size }, { quoted: false, path });
    const rows = [];
    for (let i = 0; i < index.count; i++)
      rows.push((await readRecordBytes(handle, index, i)).toString().split('\n')[0]);
    await handle.close();
    expect(rows).toEqual(['{"a": "x\\"y"}', '  \r', '{"b": 1}\r']);
  });
});
