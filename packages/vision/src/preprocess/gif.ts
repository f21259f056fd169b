/** What PIL needs from a GIF's first frame that a decoder to RGBA throws away. */
export interface GifFirstFrame {
  /**
   * The first frame's palette (local, else global) as RGB triples, or null when PIL would open the frame
   * as `L`: no palette, or an identity greyscale one (entry i = (i, i, i), `_is_palette_needed`).
   */
  palette: Uint8Array | null;
  /** Transparent colour index from the Graphic Control Extension before the frame, if any. */
  transparency: number | null;
}

/**
 * Reads the palette and transparency index of a GIF's first frame (header, extensions, image
 * descriptor; no pixel data). PIL opens that frame as `P` — resized with nearest — and
 * `convert('RGB')` shows transparent pixels in their palette colour, whereas libvips returns them as
 * transparent black. Returns null for data that is not a well-formed GIF.
 */
export function readGifFirstFrame(buf: Uint8Array): GifFirstFrame | null {
  if (buf.length < 13 || String.fromCharCode(...buf.subarray(0, 3)) !== 'GIF') return null;
  const needed = (p: Uint8Array): boolean => {
    for (let i = 0; i < p.length; i += 3) {
      const n = i / 3;
      if (!(p[i] === n && p[i + 1] === n && p[i + 2] === n)) return true;
    }
    return false;
  };
  let pos = 13;
  const flags = buf[10];
  let global: Uint8Array | null = null;
  if (flags & 0x80) {
    const len = 3 << ((flags & 7) + 1);
    const p = buf.subarray(pos, pos + len);
    pos += len;
    if (needed(p)) global = p;
  }
  let transparency: number | null = null;
  const skipSubBlocks = (): void => {
    while (pos < buf.length && buf[pos] !== 0) pos += buf[pos] + 1;
    pos++;
  };
  while (pos < buf.length) {
    const tag = buf[pos++];
    if (tag === 0x21) {
      const label = buf[pos++];
      if (label === 0xf9 && buf[pos] >= 4 && buf[pos + 1] & 1) transparency = buf[pos + 4];
      skipSubBlocks();
    } else if (tag === 0x2c) {
      const f = buf[pos + 8];
      let palette = global;
      if (f & 0x80) {
        const p = buf.subarray(pos + 9, pos + 9 + (3 << ((f & 7) + 1)));
        palette = needed(p) ? p : null;
      }
      return { palette, transparency };
    } else {
      return null;
    }
  }
  return null;
}
