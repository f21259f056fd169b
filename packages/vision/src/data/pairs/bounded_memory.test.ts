import { createWriteStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempFolders, tempFolder } from '../fake_folders.test.helpers.js';
import { openImageCaptionSource } from './open_source.js';
import { makeImage, SMALL, writeFiles, writeTar } from './pairs.test.helpers.js';

/**
 * Streaming, bounded memory: a CSV of 200,000 rows (24 MB of text) pointing at a few images opens in
 * well under a second of work and grows the JS heap by a fraction of the file, because rows are indexed
 * by byte offset and read when their batch is built, never kept as strings. (Loose bounds: the machine is
 * shared. The RSS-over-an-epoch numbers are `bench/pairs_loader.mjs`'s.) And closing a source releases
 * every file descriptor it opened.
 */

afterAll(removeTempFolders);

const ROWS = 200_000;

describe('bounded memory', () => {
  it(`opens a ${ROWS.toLocaleString('en-US')}-row CSV without reading its rows into memory`, async () => {
    const dir = await tempFolder();
    await writeFiles(dir, { 'a.png': await makeImage(1, 'png'), 'b.jpg': await makeImage(2, 'jpeg') });
    const out = createWriteStream(join(dir, 'big.tsv'));
    out.write('filepath\ttitle\n');
    const filler = 'a caption long enough to make the file large, as real alt texts are'.padEnd(100, '.');
    for (let r = 0; r < ROWS; r++) {
      if (!out.write(`${r % 2 ? 'b.jpg' : 'a.png'}\t${r} ${filler}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const src = await openImageCaptionSource({
      path: join(dir, 'big.tsv'),
      preprocess: SMALL,
      seed: 0,
      loop: true,
    });
    const openMs = performance.now() - t0;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `opened ${ROWS} rows in ${openMs.toFixed(0)} ms; heap +${(heapGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(src.description).toContain('200,000 rows');
    expect(openMs).toBeLessThan(10_000);
    // the text is 24 MB; as strings it would be more than that on the heap
    expect(heapGrowth).toBeLessThan(12 * 2 ** 20);
    const batch = (await src.next(16))!;
    expect(batch.ids).toHaveLength(16);
    expect(new Set(batch.ids.map((id) => Number(id.split(':')[1]))).size).toBe(16);
    expect(batch.captions[0]).toMatch(/^\d+ a caption long enough/);
    await src.close();
  });

  it('close() releases every file descriptor, also mid-stream and after a resume', async () => {
    const dir = await tempFolder();
    await writeFiles(dir, {
      'a.png': await makeImage(1, 'png'),
      'p.tsv': 'filepath\ttitle\na.png\tx\nb.png\ty\na.png\tz\n',
    });
    for (let s = 0; s < 3; s++) {
      await writeTar(join(dir, `w-${s}.tar`), [
        [`k${s}a.jpg`, await makeImage(s, 'jpeg')],
        [`k${s}a.txt`, 'x'],
        [`k${s}b.jpg`, await makeImage(s + 3, 'jpeg')],
        [`k${s}b.txt`, 'y'],
      ]);
    }
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (const path of [join(dir, 'p.tsv'), join(dir, 'w-{0..2}.tar')]) {
      for (let seed = 0; seed < 4; seed++) {
        const src = await openImageCaptionSource({
          path,
          preprocess: SMALL,
          seed,
          loop: true,
          shuffleBuffer: 2,
        });
        await src.next(3);
        const state = src.getState();
        await src.next(2);
        src.setState(state);
        await src.next(4);
        await src.close();
      }
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(fds()).toBeLessThanOrEqual(before);
  });
});
