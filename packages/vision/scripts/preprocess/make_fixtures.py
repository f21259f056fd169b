#!/usr/bin/python3
"""Generates the image fixtures and Pillow reference tensors for @moevl/vision's preprocessing tests.

Run with Debian's python (Pillow 9.4 + numpy), from anywhere:

    /usr/bin/python3 packages/vision/scripts/preprocess/make_fixtures.py

Every image is synthesised here (no downloads): smooth colour fields, soft and hard-edged shapes,
fractal texture and sensor-like noise, so resampling sees both flat areas and detail. The reference
for each case follows open_clip / torchvision on a PIL image, step by step:

    Image.open -> Resize(size, BICUBIC) -> CenterCrop(crop) -> convert('RGB') -> /255 -> Normalize

Resize(int) makes the short side `size` and the long side int(size * long / short); CenterCrop pads
with zeros (torchvision's rule) when the image is smaller than the crop, then crops at
int(round((d - crop) / 2)) (Python's round: half to even). The tensors are float32, CHW,
little-endian, one .bin per case, listed in manifest.json with the config that produced them.
"""

import io
import json
import os
import struct
import subprocess
import zlib

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageFilter, ImageOps

OUT = os.path.normpath(os.path.join(os.path.dirname(__file__), '../../test/fixtures/preprocess'))
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
RESAMPLE = {
    'nearest': Image.Resampling.NEAREST,
    'box': Image.Resampling.BOX,
    'bilinear': Image.Resampling.BILINEAR,
    'hamming': Image.Resampling.HAMMING,
    'bicubic': Image.Resampling.BICUBIC,
    'lanczos': Image.Resampling.LANCZOS,
}
BUDGET_BYTES = 3 * 1024 * 1024


# ----------------------------------------------------------------------------------------------
# Synthetic "photos"


def smooth_field(rng, w, h, cells, channels=3):
    """A low-frequency random field: a tiny random grid upscaled with bicubic (sky, walls, lawns)."""
    grid = rng.integers(0, 256, (cells[1], cells[0], channels), dtype=np.uint8)
    img = Image.fromarray(grid.squeeze(), 'RGB' if channels == 3 else 'L')
    return np.asarray(img.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)


def fractal(rng, w, h, octaves=5):
    """Sum of upscaled noise octaves in [-1, 1]: foliage / rock texture."""
    acc = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cw, ch = max(2, w >> (octaves - o)), max(2, h >> (octaves - o))
        acc += amp * (smooth_field(rng, w, h, (cw, ch), 1) / 127.5 - 1.0)
        total += amp
        amp *= 0.55
    return acc / total


def synth_photo(seed, w, h, noise=3.0):
    """An RGB 'photo'; lossless fixtures use less sensor noise to stay small."""
    rng = np.random.default_rng(seed)
    base = smooth_field(rng, w, h, (4, 3))
    sky = np.linspace(1.15, 0.75, h, dtype=np.float32)[:, None, None]
    img = base * sky + 28.0 * fractal(rng, w, h)[:, :, None]
    canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), 'RGB')
    # Soft shapes (out-of-focus objects) then sharp ones (in-focus edges).
    for blur, count in ((max(w, h) / 60, 5), (0, 7)):
        layer = Image.new('RGBA', (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for _ in range(count):
            x0, y0 = rng.integers(-w // 4, w), rng.integers(-h // 4, h)
            sw, sh = rng.integers(w // 10, w // 2), rng.integers(h // 10, h // 2)
            colour = tuple(int(c) for c in rng.integers(0, 256, 3)) + (int(rng.integers(120, 256)),)
            if rng.random() < 0.5:
                draw.ellipse([x0, y0, x0 + sw, y0 + sh], fill=colour)
            else:
                pts = [(int(x0 + rng.integers(0, sw)), int(y0 + rng.integers(0, sh))) for _ in range(5)]
                draw.polygon(pts, fill=colour)
        if not blur:
            # Thin lines (branches, wires, a fence): the detail that antialiasing must average away.
            for _ in range(12):
                x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
                x1, y1 = x0 + int(rng.integers(-w // 3, w // 3)), y0 + int(rng.integers(-h // 3, h // 3))
                colour = tuple(int(c) for c in rng.integers(0, 256, 3)) + (255,)
                draw.line([x0, y0, x1, y1], fill=colour, width=int(rng.integers(1, 4)))
        if blur:
            layer = layer.filter(ImageFilter.GaussianBlur(blur))
        canvas = Image.alpha_composite(canvas.convert('RGBA'), layer).convert('RGB')
    arr = np.asarray(canvas, np.float32) + rng.normal(0, noise, (h, w, 3)).astype(np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), 'RGB')


# ----------------------------------------------------------------------------------------------
# Writers Pillow lacks (16-bit RGB PNG) and an ICC profile that would visibly change colours


def png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(path, arr):
    """Writes a 16-bit grey (HxW) or RGB (HxWx3) PNG from a uint16 array."""
    h, w = arr.shape[:2]
    colour = 0 if arr.ndim == 2 else 2
    raw = b''.join(b'\x00' + arr[y].astype('>u2').tobytes() for y in range(h))
    ihdr = struct.pack('>IIBBBBB', w, h, 16, colour, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr) + png_chunk(b'IDAT', zlib.compress(raw, 9)))
        f.write(png_chunk(b'IEND', b''))


def s15(v):
    return struct.pack('>i', int(round(v * 65536)))


def icc_profile():
    """A minimal ICC v2 RGB display profile (matrix/TRC) with wide primaries and gamma 1.8.

    A colour-managed decoder would shift colours noticeably; PIL ignores it, so must we.
    """
    def xyz(x, y, z):
        return b'XYZ ' + b'\0' * 4 + s15(x) + s15(y) + s15(z)

    def text(s):
        return b'text' + b'\0' * 4 + s.encode('ascii') + b'\0'

    def desc(s):
        b = s.encode('ascii') + b'\0'
        return b'desc' + b'\0' * 4 + struct.pack('>I', len(b)) + b + b'\0' * 4 + b'\0' * 4 + b'\0' * 67

    curve = b'curv' + b'\0' * 4 + struct.pack('>IH', 1, int(1.8 * 256)) + b'\0\0'
    tags = [
        (b'desc', desc('moevl wide-gamut test')),
        (b'cprt', text('public domain')),
        (b'wtpt', xyz(0.9642, 1.0, 0.8249)),
        (b'rXYZ', xyz(0.7977, 0.2880, 0.0)),
        (b'gXYZ', xyz(0.1352, 0.7119, 0.0)),
        (b'bXYZ', xyz(0.0313, 0.0001, 0.8249)),
        (b'rTRC', curve),
        (b'gTRC', curve),
        (b'bTRC', curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b'', b''
    for sig, body in tags:
        while len(body) % 4:
            body += b'\0'
        table += sig + struct.pack('>II', offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack('>I', size) + b'lcms' + struct.pack('>I', 0x02100000) + b'mntrRGB XYZ '
    header += struct.pack('>6H', 2024, 1, 1, 0, 0, 0) + b'acsp' + b'APPL' + b'\0' * 4 + b'\0' * 8 + b'\0' * 8
    header += struct.pack('>I', 0) + s15(0.9642) + s15(1.0) + s15(0.8249) + b'lcms' + b'\0' * 16 + b'\0' * 28
    assert len(header) == 128
    return header + struct.pack('>I', len(tags)) + table + data


# ----------------------------------------------------------------------------------------------
# The reference: torchvision's Resize + CenterCrop on a PIL image, then ToTensor + Normalize


def resized_size(w, h, size, mode):
    if mode == 'squash':
        return size, size
    if w <= h:
        return size, int(size * h / w)
    return int(size * w / h), size


def center_crop(img, crop):
    w, h = img.size
    if crop > w or crop > h:
        pad = [(crop - w) // 2 if crop > w else 0, (crop - h) // 2 if crop > h else 0,
               (crop - w + 1) // 2 if crop > w else 0, (crop - h + 1) // 2 if crop > h else 0]
        fill = 0 if len(img.getbands()) == 1 else tuple([0] * len(img.getbands()))
        palette = img.getpalette() if img.mode == 'P' else None
        img = ImageOps.expand(img, border=tuple(pad), fill=fill)
        if palette is not None:
            img.putpalette(palette)
        w, h = img.size
        if (w, h) == (crop, crop):
            return img
    top = int(round((h - crop) / 2.0))
    left = int(round((w - crop) / 2.0))
    return img.crop((left, top, left + crop, top + crop))


def reference(path, size, crop, mode, resample):
    img = Image.open(path)
    img = img.resize(resized_size(*img.size, size, mode), RESAMPLE[resample])
    img = center_crop(img, crop).convert('RGB')
    x = np.asarray(img, dtype=np.uint8).astype(np.float32) / np.float32(255)
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype='<f4')


# ----------------------------------------------------------------------------------------------


def make_images():
    """Writes every source image; returns {file: note}."""
    notes = {}

    def save(name, img, note, **kw):
        img.save(os.path.join(OUT, name), **kw)
        notes[name] = note

    big = synth_photo(1, 1500, 1000)
    save('photo_1500x1000.jpg', big, 'large landscape JPEG: 6.7x reduction', quality=72)
    save('upscale_150x191.jpg', synth_photo(2, 150, 191), 'small portrait JPEG: upscaled', quality=90)
    save('photo_500x375.jpg', synth_photo(3, 500, 375), 'ImageNet-typical size', quality=85)
    save('odd_233x357.png', synth_photo(4, 233, 357, 0.5), 'odd portrait PNG')
    save('wide_401x157.webp', synth_photo(5, 401, 157), 'lossy WebP, very wide', quality=80)
    save('tiff_190x150.tif', synth_photo(6, 190, 150, 0.5), 'TIFF (deflate)', compression='tiff_deflate')
    save('gray_301x233.png', synth_photo(7, 301, 233, 0.5).convert('L'), 'grayscale PNG (mode L)')
    save('gray_280x360.jpg', synth_photo(8, 280, 360).convert('L'), 'grayscale JPEG (mode L)', quality=88)
    save('cmyk_320x240.jpg', synth_photo(9, 320, 240).convert('CMYK'), 'Adobe CMYK JPEG', quality=90)

    rgba = synth_photo(10, 260, 200, 0.5).convert('RGBA')
    alpha = np.zeros((200, 260), np.uint8)
    yy, xx = np.mgrid[0:200, 0:260]
    alpha[:] = np.clip(255 - np.hypot(xx - 130, yy - 100) * 2.2, 0, 255).astype(np.uint8)
    alpha[:, :40] = 0  # fully transparent band: PIL keeps its stored colour, premultiplies on resize
    rgba.putalpha(Image.fromarray(alpha))
    save('rgba_260x200.png', rgba, 'RGBA with soft and hard transparency (PIL resizes premultiplied)')
    ly, lx = np.mgrid[0:230, 0:190]
    la_alpha = np.clip((lx - 20) * 3, 0, 255).astype(np.uint8)  # left edge transparent, ramp, then opaque
    la_alpha[150:, :] //= 2
    la = Image.merge('LA', (synth_photo(11, 190, 230, 0.5).convert('L'), Image.fromarray(la_alpha)))
    save('la_190x230.png', la, 'grey + alpha PNG (mode LA)')

    pal = synth_photo(12, 317, 211).quantize(48)
    save('palette_317x211.png', pal, 'palette PNG (mode P: PIL resizes nearest)', transparency=5)
    save('palette_270x180.gif', synth_photo(13, 270, 180).quantize(64), 'GIF (mode P)')
    frames = [synth_photo(14, 200, 150).quantize(32), synth_photo(15, 200, 150).quantize(32)]
    save('anim_200x150.gif', frames[0], 'animated GIF: first frame only', save_all=True,
         append_images=frames[1:], duration=100, loop=0)
    tgif = synth_photo(23, 230, 170).quantize(32)
    tarr = np.asarray(tgif).copy()
    tarr[40:120, 60:150] = 31  # a block of the transparent index: PIL shows its palette colour
    tgif = Image.fromarray(tarr, 'P')
    tgif.putpalette(synth_photo(23, 230, 170).quantize(32).getpalette())
    save('transparent_230x170.gif', tgif, 'GIF with a transparent index (PIL: palette colour)', transparency=31)
    save('grey_190x140.gif', synth_photo(24, 190, 140).convert('L'), 'greyscale GIF (identity palette: mode L)',
         optimize=False)
    bits = synth_photo(16, 210, 170).convert('L').point(lambda v: 255 if v > 120 else 0).convert('1')
    save('bilevel_210x170.png', bits, '1-bit PNG (mode 1: nearest)')

    rng = np.random.default_rng(17)
    grey = np.asarray(synth_photo(17, 240, 180).convert('L'), np.float32)
    # Mostly dark 16-bit values: PIL's mode I -> RGB conversion clips at 255, so keep some below it.
    write_png16(os.path.join(OUT, 'gray16_240x180.png'), (grey * 1.6 + rng.normal(0, 2, grey.shape)).clip(0).astype(np.uint16))
    notes['gray16_240x180.png'] = '16-bit grey PNG (PIL mode I; convert(RGB) clips to 255)'
    lsb = (np.arange(128)[None, :, None] * 7 + np.arange(96)[:, None, None] * 3) % 256
    rgb16 = np.asarray(synth_photo(18, 128, 96, 0.5), np.uint16) * 256 + lsb.astype(np.uint16)
    write_png16(os.path.join(OUT, 'rgb16_128x96.png'), rgb16)
    notes['rgb16_128x96.png'] = '16-bit RGB PNG (PIL keeps the high byte)'

    icc = icc_profile()
    save('icc_300x200.png', synth_photo(19, 300, 200, 0.5), 'PNG with a wide-gamut ICC profile', icc_profile=icc)
    save('icc_240x320.jpg', synth_photo(20, 240, 320), 'JPEG with a wide-gamut ICC profile', quality=88,
         icc_profile=icc)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display; PIL's transform does not apply it
    save('exif_rot6_320x240.jpg', synth_photo(21, 320, 240), 'EXIF orientation 6 (not applied)', quality=88,
         exif=exif.tobytes())
    tiny = np.random.default_rng(22).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    save('tiny_7x5.png', Image.fromarray(tiny, 'RGB'), 'tiny noise: extreme upscale (overshoot, clipping)')
    return notes


CASES = [
    # name, file, size, crop, mode, resample
    ('photo_1500x1000', 'photo_1500x1000.jpg', 224, 224, 'shortest', 'bicubic'),
    ('upscale_150x191', 'upscale_150x191.jpg', 224, 224, 'shortest', 'bicubic'),
    ('photo_500x375_s112', 'photo_500x375.jpg', 112, 112, 'shortest', 'bicubic'),
    ('photo_500x375_squash', 'photo_500x375.jpg', 64, 64, 'squash', 'bicubic'),
    ('photo_500x375_bilinear', 'photo_500x375.jpg', 64, 56, 'shortest', 'bilinear'),
    ('photo_500x375_lanczos', 'photo_500x375.jpg', 64, 64, 'shortest', 'lanczos'),
    ('odd_233x357', 'odd_233x357.png', 81, 64, 'shortest', 'bicubic'),
    ('wide_401x157_webp', 'wide_401x157.webp', 48, 48, 'shortest', 'bicubic'),
    ('tiff_190x150', 'tiff_190x150.tif', 48, 48, 'shortest', 'bicubic'),
    ('gray_301x233', 'gray_301x233.png', 48, 48, 'shortest', 'bicubic'),
    ('gray_280x360_jpg', 'gray_280x360.jpg', 48, 48, 'shortest', 'bicubic'),
    ('cmyk_320x240', 'cmyk_320x240.jpg', 48, 48, 'shortest', 'bicubic'),
    ('rgba_260x200', 'rgba_260x200.png', 48, 48, 'shortest', 'bicubic'),
    ('la_190x230', 'la_190x230.png', 48, 48, 'shortest', 'bicubic'),
    ('palette_317x211', 'palette_317x211.png', 48, 48, 'shortest', 'bicubic'),
    ('palette_270x180_gif', 'palette_270x180.gif', 48, 48, 'shortest', 'bicubic'),
    ('anim_200x150_gif', 'anim_200x150.gif', 48, 48, 'shortest', 'bicubic'),
    ('transparent_230x170_gif', 'transparent_230x170.gif', 48, 48, 'shortest', 'bicubic'),
    ('grey_190x140_gif', 'grey_190x140.gif', 48, 48, 'shortest', 'bicubic'),
    ('bilevel_210x170', 'bilevel_210x170.png', 48, 48, 'shortest', 'bicubic'),
    ('gray16_240x180', 'gray16_240x180.png', 48, 48, 'shortest', 'bicubic'),
    ('rgb16_128x96', 'rgb16_128x96.png', 48, 48, 'shortest', 'bicubic'),
    ('icc_300x200_png', 'icc_300x200.png', 48, 48, 'shortest', 'bicubic'),
    ('icc_240x320_jpg', 'icc_240x320.jpg', 48, 48, 'shortest', 'bicubic'),
    ('exif_rot6_320x240', 'exif_rot6_320x240.jpg', 48, 48, 'shortest', 'bicubic'),
    ('tiny_7x5_upscale', 'tiny_7x5.png', 48, 48, 'shortest', 'bicubic'),
    ('pad_crop_gt_size', 'odd_233x357.png', 48, 64, 'shortest', 'bicubic'),
    ('pad_cmyk', 'cmyk_320x240.jpg', 40, 48, 'squash', 'bicubic'),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    notes = make_images()
    cases = []
    for name, file, size, crop, mode, resample in CASES:
        x = reference(os.path.join(OUT, file), size, crop, mode, resample)
        x.tofile(os.path.join(OUT, name + '.bin'))
        with Image.open(os.path.join(OUT, file)) as im:
            info = {'pilMode': im.mode, 'width': im.size[0], 'height': im.size[1]}
        cases.append({
            'name': name, 'file': file, 'note': notes[file], **info,
            'config': {'size': size, 'cropSize': crop, 'resizeMode': mode, 'resample': resample},
            'reference': {'file': name + '.bin', 'shape': list(x.shape), 'dtype': 'float32', 'byteOrder': 'little'},
        })
    manifest = {
        'generator': 'packages/vision/scripts/preprocess/make_fixtures.py',
        'pillow': PIL.__version__, 'numpy': np.__version__,
        'pipeline': 'PIL open -> resize(BICUBIC unless noted) -> torchvision CenterCrop -> convert(RGB) -> /255 -> normalise',
        'mean': MEAN.tolist(), 'std': STD.tolist(), 'cases': cases,
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    # The repository checks formatting with prettier; format the manifest the same way when it is at hand.
    repo = os.path.normpath(os.path.join(os.path.dirname(__file__), '../../../..'))
    try:
        subprocess.run(['npx', 'prettier', '--write', os.path.join(OUT, 'manifest.json')], cwd=repo,
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        print('note: prettier not run on manifest.json (run `npx prettier --write` on it)')
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'{len(cases)} cases, {len(os.listdir(OUT))} files, {total / 1024:.0f} KiB in {OUT}')
    assert total < BUDGET_BYTES, f'fixtures exceed the {BUDGET_BYTES} byte budget'


if __name__ == '__main__':
    main()
