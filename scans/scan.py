"""A painting as a conservator's file holds it: its own pixels at their own depth, its alpha, its
colour profile and its EXIF metadata, read and written losslessly.

`read_image` (utils/images.py) turns any image into float RGB for the models; this module is for
the tools that write a restored painting back: 8- or 16-bit samples are kept as they are, gray
stays gray, alpha is kept apart, and the PNG and TIFF writers carry the ICC profile and EXIF over.
Both writers stream the image in strips, so writing needs no copy of a large scan.
"""
import ctypes
import os
import shutil
import struct
import warnings
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, TiffImagePlugin

from utils.errors import ImageError
from utils.images import MAX_PIXELS, from_float

FORMATS = ("png", "tiff")
SUFFIX = {"png": ".png", "tiff": ".tif"}
# EXIF tags that describe a TIFF file's own layout: they are rewritten, never copied.
_LAYOUT_TAGS = {254, 255, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 280, 281, 284,
                317, 320, 322, 323, 324, 325, 338, 339, 513, 514, 34675, 700, 33723, 37724}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ORIENTATION = 0x0112


@dataclass
class Scan:
    """colour: (H, W, 1) gray or (H, W, 3) RGB, uint8 or uint16, upright (EXIF orientation
    applied); alpha: (H, W) of the same dtype, or None; exif: PIL's Exif with orientation 1."""
    colour: np.ndarray
    alpha: np.ndarray = None
    icc: bytes = None
    exif: Image.Exif = None
    notes: list = field(default_factory=list)  # conversions made on reading, for the record
    warnings: list = field(default_factory=list)  # what reading left out: tools print these

    @property
    def bits(self):
        return 8 * self.colour.dtype.itemsize

    @property
    def shape(self):
        return self.colour.shape[:2]

    def describe(self):
        kind = "gray" if self.colour.shape[2] == 1 else "RGB"
        return (f"{self.shape[1]} x {self.shape[0]} {self.bits}-bit {kind}"
                f"{' + alpha' if self.alpha is not None else ''}")


def _png_bit_depth(path):
    with open(path, "rb") as handle:
        head = handle.read(26)
    return head[24], head[25]  # bit depth, colour type


def _upright(array, orientation):
    """Apply an EXIF orientation (2-8) to an (H, W, ...) array, as ImageOps.exif_transpose does."""
    turns = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
             5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
             7: lambda a: np.rot90(a, 2).swapaxes(0, 1), 8: lambda a: np.rot90(a, 1)}
    return np.ascontiguousarray(turns[orientation](array)) if orientation in turns else array


def _pil_pixels(im, notes):
    """Pixels (H, W, C) at the file's own depth from PIL, for every mode but 16-bit colour."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.array(im)
        if values.min() < 0 or values.max() > 65535:
            raise ImageError(f"{im.mode} samples outside 0-65535 are not supported")
        return values.astype(np.uint16)[..., None]
    if mode == "F":
        notes.append("32-bit float samples scaled to 16 bits")
        values = np.asarray(im, np.float32)
        values = values / 255.0 if values.max() > 1.0 else values
        return from_float(np.clip(values, 0, 1), np.uint16)[..., None]
    keep = {"L": "L", "1": "L", "LA": "LA", "La": "LA", "RGB": "RGB", "RGBX": "RGB",
            "RGBA": "RGBA", "RGBa": "RGBA", "PA": "RGBA"}
    if mode == "P":
        target = "RGBA" if "transparency" in im.info else "RGB"
    else:
        target = keep.get(mode, "RGB")
    if target != mode and mode not in ("1", "P", "RGBX", "La", "RGBa"):
        notes.append(f"{mode} converted to {target}")
    values = np.array(im.convert(target) if target != mode else im)  # writable: filled in place
    return values[..., None] if values.ndim == 2 else values


FRAMES = "the file holds"  # how a note about frames left out begins (tools warn of it)


def _tiff_pixels(path, notes=None):
    """A TIFF's first image through tifffile: every bit of 16-bit colour, gray + alpha included;
    (pixels, its ICC profile or None, its orientation tag, 1 if none)."""
    import tifffile
    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        _check_samples(path, {277: page.samplesperpixel, 262: int(page.photometric),
                              338: tuple(int(e) for e in page.extrasamples)})
        if len(tiff.pages) > 1 and notes is not None and not any(
                n.startswith(FRAMES) for n in notes):
            notes.append(f"{FRAMES} {len(tiff.pages)} frames or pages: only the first was read; "
                         f"the output holds that one alone")
        if page.photometric not in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB):
            raise ImageError(f"{path}: {page.photometric.name} TIFFs of {page.bitspersample} "
                             f"bits are not supported")
        icc = page.tags.get(34675)
        pixels = page.asarray()
        if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and pixels.ndim == 3:
            pixels = np.moveaxis(pixels, 0, -1)
        orientation = page.tags.get(274)
        return (pixels, icc.value if icc is not None else None,
                int(orientation.value) if orientation is not None else 1)


def _check_samples(path, tags):
    """Refuse a TIFF whose samples beyond the colour are anything but one alpha channel: they
    would be lost, and nothing may be dropped without a word."""
    samples = tags.get(277, 1)
    photometric = tags.get(262, 2)
    extra = tags.get(338, ())
    extra = extra if isinstance(extra, tuple) else (extra,)
    colour = 1 if photometric in (0, 1) else 3
    if samples > colour + 1 or (samples == colour + 1 and tuple(extra) not in ((1,), (2,))):
        raise ImageError(f"{path}: {samples} samples per pixel ({colour} of colour and "
                         f"{samples - colour} extra, not one alpha channel): only gray or RGB "
                         f"with at most one alpha is supported; the extra samples would be lost")


def _open(path, max_pixels, notes):
    """(pixels, EXIF orientation, icc, exif) of an image file, pixels at the file's own depth."""
    exif, icc, orientation = Image.Exif(), None, 1
    try:
        with Image.open(path) as im:
            width, height = im.size
            if max_pixels and width * height > max_pixels:
                raise ImageError(f"{path}: {width} x {height} pixels is too large to decode "
                                 f"safely (limit {max_pixels:,} pixels)")
            frames = getattr(im, "n_frames", 1)
            if frames > 1:
                notes.append(f"{FRAMES} {frames} frames or pages: only the first was read; the "
                             f"output holds that one alone")
            if im.format == "TIFF":
                _check_samples(path, im.tag_v2)
            exif = im.getexif()
            for tag in (_EXIF_IFD, _GPS_IFD):
                if tag in exif:
                    exif.get_ifd(tag)  # read now: for a TIFF it is read lazily from the file
            orientation = exif.get(_ORIENTATION, 1)
            icc = im.info.get("icc_profile")
            if im.format == "PNG":
                depth, colour_type = _png_bit_depth(path)
                if depth == 16 and colour_type in (2, 4, 6):
                    # PIL keeps only the high byte of 16-bit colour; OpenCV reads every bit.
                    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                    if pixels is None:
                        raise ImageError(f"{path}: not a readable image")
                    pixels = pixels[..., [0, 3]] if colour_type == 4 else cv2.cvtColor(
                        pixels, cv2.COLOR_BGRA2RGBA if colour_type == 6 else cv2.COLOR_BGR2RGB)
                    return pixels, orientation, icc, exif
            if im.format == "TIFF":
                bits = im.tag_v2.get(258, (8,))
                if max(bits if isinstance(bits, tuple) else (bits,)) > 8:
                    return _tiff_pixels(path, notes)[0], orientation, icc, exif
            if im.mode == "CMYK" and icc:
                icc = None  # a CMYK profile does not describe the RGB we write
                notes.append("CMYK converted to RGB; its CMYK colour profile dropped")
            return _pil_pixels(im, notes), orientation, icc, exif
    except Image.UnidentifiedImageError:
        if path.suffix.lower() not in (".tif", ".tiff"):
            raise
        # 16-bit gray + alpha, which PIL cannot open: its orientation from the TIFF's own tag
        pixels, icc, orientation = _tiff_pixels(path, notes)
        return pixels, orientation, icc, exif


def regular_file(path):
    """path, if it names a regular file (or a link to one); an ImageError otherwise. A FIFO, a
    device or a socket would make a reader wait forever, and a folder is not an image."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a pipe, device or socket)"
        raise ImageError(f"{path}: {kind}, not an image file")
    return path


def header(path):
    """(width, height, bits per sample: 8 or 16) from a file's header, without decoding it."""
    path = regular_file(path)
    try:
        return _header(path)
    except ImageError:
        raise
    except Exception as error:  # PIL and tifffile raise many kinds for a wrong or empty file
        raise ImageError(f"{path}: not a readable image ({type(error).__name__}: {error})")


def _header(path):
    old_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # a header decodes nothing: its size is the caller's to weigh
    try:
        with Image.open(path) as im:
            bits = 8
            if im.mode.startswith("I") or im.mode == "F":
                bits = 16
            elif im.format == "PNG":
                bits = _png_bit_depth(path)[0]
            elif im.format == "TIFF":
                depth = im.tag_v2.get(258, (8,))
                bits = max(depth if isinstance(depth, tuple) else (depth,))
            return im.size[0], im.size[1], 16 if bits > 8 else 8
    except Image.UnidentifiedImageError:
        if path.suffix.lower() not in (".tif", ".tiff"):
            raise  # told as what PIL found, not as a TIFF reader's complaint
        import tifffile
        with tifffile.TiffFile(path) as tiff:
            page = tiff.pages[0]
            return page.imagewidth, page.imagelength, 16 if page.bitspersample > 8 else 8
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit


# Peak memory per pixel of a restoration beyond the program itself: 8-bit RGB measured by
# bench/bench_large_scans.py (18 at 100 MP, 20 at 24 MP); 16-bit estimated, not measured, as
# that plus the doubled samples of the painting and its thumbnails.
BYTES_PER_PIXEL = {8: 20, 16: 26}
BASE_MEMORY = 1.0e9  # Python, TensorFlow and a loaded model


def available_memory():
    """Bytes of memory available now (Linux's MemAvailable), or None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def release_freed_memory():
    """Hand the memory a phase freed back to the system before the next allocates: glibc keeps
    freed heap for reuse, and what the detection freed piled onto the fill's peak (the 100-MP
    default run: 3.03 GB without this, 2.90 with it; the fill no slower). Nothing where the C
    library has no malloc_trim."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def check_size(path, max_pixels, budget=None):
    """Refuse, before decoding, a painting larger than max_pixels (the --max-pixels option) or,
    without it, than the memory available allows to restore; budget (bytes) caps that memory
    for one of several worker processes that restore at once."""
    width, height, bits = header(path)
    pixels = width * height
    if max_pixels:
        if pixels > max_pixels:
            raise ImageError(f"{path}: {width} x {height} pixels is over --max-pixels "
                             f"{max_pixels} (raise it to {pixels} to restore this painting)")
        return
    memory = available_memory()
    if budget is not None:
        memory = budget if memory is None else min(memory, budget)
    need = BASE_MEMORY + pixels * BYTES_PER_PIXEL[bits]
    if memory is not None and need > memory:
        share = " (this worker's share of it: pass --jobs 1 to give one worker all)" \
            if budget is not None and memory == budget else ""
        raise ImageError(f"{path}: {width} x {height} pixels needs about {need / 1e9:.1f} GB of "
                         f"memory to restore and {memory / 1e9:.1f} GB is available{share}; "
                         f"free memory, or pass --max-pixels {pixels} to try anyway")


def read_scan(path, max_pixels=MAX_PIXELS):
    """Read a painting losslessly as a Scan. max_pixels refuses larger images before decoding
    (None: the caller has checked the size against the memory it has)."""
    path = regular_file(path)
    notes = []
    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = None  # max_pixels is the limit here
            pixels, orientation, icc, exif = _open(path, max_pixels, notes)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file")
    except Exception as error:  # decoders raise many kinds for a damaged file
        raise ImageError(f"{path}: not a readable image ({error})")
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"{path}: {pixels.dtype} samples are not supported (8 or 16 bits)")
    if orientation in range(2, 9):
        pixels = _upright(pixels, orientation)
        notes.append(f"EXIF orientation {orientation} applied")
    for tag in _LAYOUT_TAGS & set(exif):
        del exif[tag]
    if _ORIENTATION in exif:
        exif[_ORIENTATION] = 1  # the pixels are upright now
    channels = pixels.shape[2]
    if channels > 4:
        raise ImageError(f"{path}: {channels} samples per pixel: only gray or RGB with at most "
                         f"one alpha is supported; the extra samples would be lost")
    colour, alpha = (pixels[..., :channels - 1], pixels[..., -1]) if channels in (2, 4) \
        else (pixels, None)
    return Scan(np.ascontiguousarray(colour), None if alpha is None else
                np.ascontiguousarray(alpha), icc, exif if len(exif) else None, notes,
                [note for note in notes if note.startswith(FRAMES)])


def _strips(scan, rows):
    """(first row, (n, W, C) interleaved samples) for each strip of rows, alpha appended."""
    height = scan.shape[0]
    for top in range(0, height, rows):
        block = scan.colour[top:top + rows]
        if scan.alpha is not None:
            block = np.concatenate([block, scan.alpha[top:top + rows, :, None]], axis=2)
        yield top, block


def _chunk(handle, kind, data):
    handle.write(struct.pack(">I", len(data)) + kind + data)
    handle.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


WRITE_THREADS = 4  # threads that compress a written file's strips (each strip a few MB)


def in_threads(items, work, workers=None):
    """work(item) for each item, in order, computed by a pool of threads (zlib and numpy leave
    Python's lock while they work), at most WRITE_THREADS of them, with at most one item per
    thread and one more in hand at a time: memory stays bounded however many items come."""
    workers = workers or min(WRITE_THREADS, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        pending = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def deflated(items, encode, level=6, workers=None):
    """The parts of one zlib stream (RFC 1950) of the bytes encode(item) of each item in turn:
    each deflated on its own (a raw stream ended by a sync flush, so that they join), in
    threads, then a final empty block and the Adler-32 of all the bytes (each part's, joined).
    Whatever the number of threads, the same bytes; each part starts with an empty window (a
    few bytes more than one stream would take, every 4 MB)."""
    def deflate(item):
        data = encode(item)
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        part = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return zlib.adler32(data), len(data), part
    yield b"\x78\x9c"  # deflate with a 32 KB window
    adler = 1
    for checksum, size, part in in_threads(items, deflate, workers):
        adler = _adler32_joined(adler, checksum, size)
        yield part
    yield b"\x03\x00" + struct.pack(">I", adler)  # the final block: fixed codes, empty


def _adler32_joined(first, second, size):
    """The Adler-32 of two byte strings one after the other, from each one's and the second's
    length (zlib's adler32_combine, which Python's zlib does not offer)."""
    base = 65521
    rest = size % base
    low = (first & 0xFFFF) + (second & 0xFFFF) + base - 1
    high = (rest * (first & 0xFFFF)) % base + (first >> 16) + (second >> 16) + base - rest
    return (low % base) | ((high % base) << 16)


def write_png(path, scan, level=6):
    """A PNG of the scan at its own depth, with its ICC profile (iCCP) and EXIF (eXIf)."""
    height, width = scan.shape
    channels = scan.colour.shape[2] + (scan.alpha is not None)
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    bpp = channels * scan.colour.dtype.itemsize  # bytes per pixel, for the Sub filter
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        _chunk(handle, b"IHDR", struct.pack(">IIBBBBB", width, height, scan.bits, colour_type,
                                            0, 0, 0))
        if scan.icc:
            _chunk(handle, b"iCCP", b"ICC profile\x00\x00" + zlib.compress(scan.icc))
        if scan.exif is not None:
            _chunk(handle, b"eXIf", scan.exif.tobytes()[6:])  # without the "Exif\0\0" header
        rows = max(1, (4 << 20) // (width * bpp))

        def filtered(block):
            data = block.astype(">u2") if scan.bits == 16 else block
            data = data.reshape(len(block), -1).view(np.uint8)
            lines = np.empty((len(block), data.shape[1] + 1), np.uint8)
            lines[:, 0] = 1  # filter type Sub: each byte minus the same byte of the pixel before
            lines[:, 1:bpp + 1] = data[:, :bpp]
            np.subtract(data[:, bpp:], data[:, :-bpp], out=lines[:, bpp + 1:])
            return lines.tobytes()
        for part in deflated((block for _, block in _strips(scan, rows)), filtered, level):
            _chunk(handle, b"IDAT", part)
        _chunk(handle, b"IEND", b"")


def write_tiff(path, scan):
    """A little-endian TIFF of the scan at its own depth, Deflate-compressed with horizontal
    differencing (lossless), with its ICC profile and EXIF (IFD0 tags and the EXIF sub-IFD)."""
    height, width = scan.shape
    channels = scan.colour.shape[2] + (scan.alpha is not None)
    rows = max(1, (1 << 20) // (width * channels * scan.colour.dtype.itemsize))
    offsets, counts = [], []
    path = Path(path)
    strips = path.with_name(path.name + ".strips")
    try:
        # PIL's directory writer places the strips after the directory, whose size depends on
        # their number: compress them to a side file first, then write directory and strips.
        with open(strips, "wb+") as side:
            def compressed(block):
                block = block.copy()
                block[:, 1:] -= block[:, :-1].copy()  # predictor 2; unsigned wrap-around
                return zlib.compress(block.astype("<u2" if scan.bits == 16 else np.uint8), 6)
            for data in in_threads((block for _, block in _strips(scan, rows)), compressed):
                offsets.append(side.tell())
                counts.append(len(data))
                side.write(data + b"\x00" * (len(data) % 2))
            ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
            if scan.exif is not None:
                for tag, value in scan.exif.items():
                    if tag not in (_EXIF_IFD, _GPS_IFD):
                        ifd[tag] = value
                for tag in (_EXIF_IFD, _GPS_IFD):
                    sub = scan.exif.get_ifd(tag) if tag in scan.exif else None
                    if sub:
                        ifd.tagtype[tag] = 4
                        ifd[tag] = dict(sub)
            layout = {256: (4, width), 257: (4, height), 258: (3, (scan.bits,) * channels),
                      259: (3, 8), 262: (3, 1 if scan.colour.shape[2] == 1 else 2),
                      273: (4, tuple(offsets)), 277: (3, channels), 278: (4, rows),
                      279: (4, tuple(counts)), 284: (3, 1), 317: (3, 2),
                      339: (3, (1,) * channels)}
            if scan.alpha is not None:
                layout[338] = (3, 2)  # the extra sample is unassociated alpha
            if scan.icc:
                layout[34675] = (7, scan.icc)
            for tag, (kind, value) in layout.items():
                ifd.tagtype[tag] = kind
                ifd[tag] = value
            with open(path, "wb") as handle:
                handle.write(b"II*\x00\x08\x00\x00\x00")
                handle.write(ifd.tobytes(8))  # the strip offsets come out past its end
                side.seek(0)
                shutil.copyfileobj(side, handle, 1 << 20)
    finally:
        strips.unlink(missing_ok=True)


def write_scan(path, scan, fmt="png"):
    (write_png if fmt == "png" else write_tiff)(path, scan)
