import { describe, expect, it } from 'vitest';
import type { DatasetError } from './dataset_error.js';
import { parseLabelsText } from './labels_file.js';

function parseError(text: string): DatasetError {
  try {
    parseLabelsText(text, 'l.txt');
  } catch (error) {
    return error as DatasetError;
  }
  throw new Error('expected an error');
}

describe('parseLabelsText (labels files of flat folders)', () => {
  it('detects Kaggle CSVs, with a BOM and CRLF line ends', () => {
    const f = parseLabelsText(
      '\uFEFFImageId,PredictionString\r\nimg_1,n01440764 1 2 3 4 n01443537 5 6 7 8\r\n',
      'l.txt',
    );
    expect(f.format).toBe('kaggle');
    expect(f.entries).toEqual([{ file: 'img_1', wnid: 'n01440764', line: 2 }]);
  });

  it('reads filename,wnid and filename<tab|space>index, skipping headers, blank lines and # comments', () => {
    const wnid = parseLabelsText('# made by hand\nfilename,label\n\na.jpg, n01440764\n', 'l.txt');
    expect(wnid).toMatchObject({ format: 'filename-wnid', header: 'filename,label' });
    expect(wnid.entries).toEqual([{ file: 'a.jpg', wnid: 'n01440764', line: 4 }]);
    const index = parseLabelsText('a.jpg\t3\nb.jpg   0\n', 'l.txt');
    expect(index.format).toBe('filename-index');
    expect(index.entries.map((e) => e.index)).toEqual([3, 0]);
  });

  it('refuses the devkit ground-truth format, empty files, mixed and malformed rows', () => {
    expect(parseError('1\n2\n3').code).toBe('devkit-ground-truth');
    expect(parseError('\n# nothing\n').message).toBe('Labels file l.txt is empty.');
    expect(parseError('a.jpg,1\nb.jpg,n01440764\nc.jpg,2').message).toMatch(
      /mix synset ids and class indices \(1 synsets, 2 indices\); the odd ones: line 2: "b.jpg,n01440764"/,
    );
    expect(parseError('a.jpg,1,extra').message).toMatch(/line 1: "a.jpg,1,extra"/);
    expect(parseError('ImageId,PredictionString\nimg_1,').message).toMatch(
      /not "ImageId,<synset> ..." rows: line 2/,
    );
  });
});
