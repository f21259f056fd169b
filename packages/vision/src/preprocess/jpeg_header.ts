/**
 * Number of colour components of a JPEG, from its SOF marker (1 greyscale, 3 YCbCr/RGB, 4 CMYK/YCCK), or
 * null if `buf` is not a JPEG or the header cannot be walked. Lets the decoder pick PIL's mode for the
 * common JPEG case without a separate libvips header read (about 0.3 ms per image).
 */
export function jpegComponents(buf: Uint8Array): number | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) return null;
    const marker = buf[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      pos += 2; // standalone markers carry no length
      continue;
    }
    const length = (buf[pos + 2] << 8) | buf[pos + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return pos + 9 < buf.length ? buf[pos + 9] : null;
    if (marker === 0xda || length < 2) return null; // scan data before any frame header: malformed
    pos += 2 + length;
  }
  return null;
}
