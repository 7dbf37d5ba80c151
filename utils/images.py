"""Reading paintings from disk: any common format and depth becomes float32 RGB in [0, 1].

The working image size of every model (256 x 384, height x width) is defined here and nowhere else.
"""
import logging
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from utils.errors import ImageError, UserError

log = logging.getLogger("paintings")

IMAGE_SIZE = (256, 384)  # (height, width) that models train and predict at
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
# A decoded 134-megapixel RGB image is 1.6 GB as float32; anything larger is refused before it is
# decoded, so a hostile or mistaken file (a "decompression bomb") cannot exhaust memory.
MAX_PIXELS = 2**27


def parse_size(text):
    """'256x384' -> (256, 384): height x width, each a positive multiple of 32 (the models halve
    the image five times)."""
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise UserError(f"image size must look like HEIGHTxWIDTH, e.g. 256x384, not {text!r}")
    if height < 32 or width < 32 or height % 32 or width % 32:
        raise UserError(f"image size {text}: height and width must be positive multiples of 32")
    return height, width


def _pil_to_float(im):
    """A decoded PIL image of any mode -> float32 RGB array in [0, 1]."""
    if im.mode.startswith("I;16") or im.mode == "I":
        # 16-bit grayscale: PIL's own convert("RGB") clips it to white, so scale it ourselves.
        gray = np.asarray(im, dtype=np.float32) / 65535.0
        return np.repeat(np.clip(gray, 0, 1)[..., None], 3, axis=2)
    if im.mode == "F":
        gray = np.asarray(im, dtype=np.float32)
        gray = gray / 255.0 if gray.max() > 1.0 else gray
        return np.repeat(np.clip(gray, 0, 1)[..., None], 3, axis=2)
    # Palette, grayscale, RGBA, CMYK, ...: PIL converts to 8-bit RGB (alpha is dropped).
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def read_image(path, draft_size=None):
    """Read one image at its own resolution as float32 RGB in [0, 1], EXIF orientation applied.

    draft_size (width, height) lets JPEG decoding skip detail finer than that size (much faster
    for large scans that are resized anyway). Raises ImageError for anything unreadable.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > MAX_PIXELS:
                    raise ImageError(
                        f"{path}: {width} x {height} pixels is too large to decode safely "
                        f"(limit {MAX_PIXELS:,} pixels)")
                if draft_size is not None and im.format == "JPEG":
                    im.draft("RGB", draft_size)
                im = ImageOps.exif_transpose(im)
                return _pil_to_float(im)
    except ImageError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageError(f"{path}: too large to decode safely ({error})")
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file")
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"{path}: not a readable image ({error})")


def resize(image, size):
    """Resize a float image to (height, width): area averaging to shrink, bicubic to enlarge."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image.astype(np.float32, copy=False)
    shrinking = image.shape[0] * image.shape[1] > height * width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    out = cv2.resize(image, (width, height), interpolation=interpolation)
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


def load_image(path, size=IMAGE_SIZE):
    """Read an image and resize it to size (height, width): float32 RGB in [0, 1]."""
    height, width = size
    return resize(read_image(path, draft_size=(width, height)), size)


def find_images(folder):
    """Every file under folder (recursively) whose suffix names an image format, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"image folder {folder} does not exist")
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not p.name.startswith("."))


def load_folder(folder, size=IMAGE_SIZE, progress=False):
    """Load every readable image under folder, resized: (float32 array N x H x W x 3, paths).

    Unreadable files are skipped with a warning naming them; a folder with no readable image is a
    UserError.
    """
    paths = find_images(folder)
    if progress:
        from tqdm import tqdm
        paths = tqdm(paths, desc=f"loading {folder}", unit="img", leave=False)
    images, kept = [], []
    for path in paths:
        try:
            images.append(load_image(path, size))
            kept.append(path)
        except ImageError as error:
            log.warning("skipping %s", error)
    if not images:
        raise UserError(f"no readable image (JPEG, PNG, TIFF, BMP, WebP) under {folder}")
    return np.stack(images), kept


ROUNDING_BLOCK = 1 << 16  # values converted at a time by _rounded (256 KB of float32)


def to_float(pixels):
    """uint8, uint16 or float [0, 1] samples as float32 in [0, 1]."""
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) * np.float32(1 / 255)
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) * np.float32(1 / 65535)
    return pixels.astype(np.float32, copy=False)


def from_float(values, dtype):
    """float [0, 1] values as samples of dtype, rounded (the inverse of to_float)."""
    if np.dtype(dtype) == np.uint8:
        return _rounded(values, 255, np.uint8)
    if np.dtype(dtype) == np.uint16:
        return _rounded(values, 65535, np.uint16)
    return values.astype(dtype)


def _rounded(values, top, dtype):
    """clip(values * top + 0.5, 0, top) as dtype, with the same arithmetic, done a block of
    rows at a time in one small buffer: the temporaries stay in the processor's cache (a 24-MP
    painting in a quarter of the time whole-array arithmetic took) and out of memory."""
    values = np.asarray(values)
    if values.ndim == 0:
        return np.asarray(np.clip(values * float(top) + 0.5, 0, top)).astype(dtype)
    out = np.empty(values.shape, dtype)
    step = max(1, ROUNDING_BLOCK * max(1, len(values)) // max(1, values.size))
    buffer = np.empty((min(step, len(values)),) + values.shape[1:],
                      np.result_type(values.dtype, 1.0))  # the type of values * 1.0
    for first in range(0, len(values), step):
        part = values[first:first + step]
        scaled = np.multiply(part, float(top), out=buffer[:len(part)])
        scaled += 0.5
        np.clip(scaled, 0, top, out=scaled)
        out[first:first + step] = scaled
    return out


def to_uint8(image):
    """A float [0, 1] array as 8-bit values, rounded (the inverse of reading an 8-bit file)."""
    return _rounded(np.asarray(image), 255, np.uint8)


def save_image(path, image):
    """Write a float [0, 1] RGB (or single-channel) array as an 8-bit image; format by suffix."""
    array = to_uint8(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
