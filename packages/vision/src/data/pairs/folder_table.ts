import { relative } from 'node:path';
import { fillTemplate } from '../../zeroshot/classifier.js';
import { DatasetError, plural } from '../dataset_error.js';
import type { ImageDataset, LayoutOption } from '../image_dataset.js';
import { loadImageFolderDataset } from '../image_folder.js';
import { type RowTable, seededRng } from './row_table.js';
import type { Candidate } from './types.js';

/**
 * An ImageNet-style folder (any layout `loadImageFolderDataset` reads) as image–caption pairs: each image's
 * caption is one of `templates` filled with its class name, the template drawn per (seed, epoch, image) so
 * it changes across epochs and is the same after a resume (as limoe's `ClassCaptionPairs`).
 */

export const DEFAULT_CAPTION_TEMPLATES: readonly string[] = ['a photo of a {}.'];

export interface FolderTableOptions {
  templates?: readonly string[];
  classNames?: readonly string[];
  layout?: LayoutOption;
  seed: number;
}

export class FolderTable implements RowTable {
  readonly size: number;
  readonly description: string;
  readonly dataset: string;

  private constructor(
    private readonly data: ImageDataset,
    private readonly names: readonly string[],
    private readonly templates: readonly string[],
    private readonly seed: number,
  ) {
    this.size = data.items.length;
    this.description =
      `folder ${data.root} (${data.layout}): ${plural(data.items.length, 'image')} in ` +
      `${plural(data.classIndices.length, 'class', 'classes')}, captions from ${plural(templates.length, 'template')}`;
    this.dataset = `folder:${data.name}/${data.items.length}/${data.classNames.length}`;
  }

  static async open(root: string, options: FolderTableOptions): Promise<FolderTable> {
    const templates = options.templates ?? DEFAULT_CAPTION_TEMPLATES;
    if (templates.length === 0)
      throw new DatasetError('bad-option', 'templates: the list of caption templates is empty.');
    for (const t of templates) {
      if (typeof t !== 'string' || (!t.includes('{}') && !t.includes('{c}'))) {
        throw new DatasetError(
          'bad-option',
          `The caption template ${JSON.stringify(t)} has no {} for the class name; write e.g. "a photo of a {}.".`,
        );
      }
    }
    const data = await loadImageFolderDataset(root, { layout: options.layout ?? 'auto' });
    let names: readonly string[] = data.classNames;
    if (options.classNames !== undefined) {
      if (options.classNames.length !== data.classNames.length) {
        throw new DatasetError(
          'bad-option',
          `classNames lists ${plural(options.classNames.length, 'name')} but ${data.root} has ${plural(data.classNames.length, 'class', 'classes')} (${data.layout} layout); give one name per class index.`,
        );
      }
      names = options.classNames;
    }
    return new FolderTable(data, names, templates, options.seed);
  }

  async read(row: number, epoch: number): Promise<Candidate> {
    const item = this.data.items[row];
    const id = relative(this.data.root, item.path);
    const t =
      this.templates.length === 1
        ? 0
        : seededRng(this.seed, `template ${epoch} ${id}`).int(this.templates.length);
    return { id, epoch, caption: fillTemplate(this.templates[t], this.names[item.label]), image: item.path };
  }

  async close(): Promise<void> {}
}
