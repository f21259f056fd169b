import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../io/atomic_write.js';

/**
 * A JSON-lines training log (one object per line, each with a `step`). On resume it is cut back to the
 * checkpoint's step first, so the lines a crashed run wrote after its last checkpoint are not duplicated
 * when the resumed run writes them again.
 */
export class JsonlLog {
  private constructor(readonly path: string) {}

  static async open(path: string, options: { resumeFromStep?: number } = {}): Promise<JsonlLog> {
    await mkdir(dirname(path), { recursive: true });
    if (options.resumeFromStep == null) {
      await writeFileAtomic(path, '');
    } else {
      let text = '';
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOENT') throw err;
      }
      const kept = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .filter((line) => {
          try {
            const step = (JSON.parse(line) as { step?: number }).step;
            return step == null || step <= options.resumeFromStep!;
          } catch {
            return false; // a half-written last line from a crash
          }
        });
      await writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
    }
    return new JsonlLog(path);
  }

  async write(record: Record<string, unknown>): Promise<void> {
    await appendFile(this.path, JSON.stringify(record) + '\n');
  }

  /** Every record in the log (for analysis and tests). */
  static async read(path: string): Promise<Array<Record<string, unknown>>> {
    const text = await readFile(path, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
