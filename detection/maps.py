"""The pixel-level pieces of finding paint loss, which every detection method (registry.py) and
the clicks (detect.py) are made of: the analysed copy of a painting and the mask enlarged back
to its size, the detector network's probability of loss, the white rule, cleaning a mask, and
where a user would click a region."""
import cv2
import numpy as np

from utils.errors import check_finite
from utils.images import to_uint8

ANALYSIS_SIDE = 512  # the network's copy of a painting: at most this many pixels a side
SURE_LOSS = 0.9     # above it, a loss the image-level decision counts
# pixels of the painting added around every loss a network method finds (before --grow): the
# soft rim a loss leaves in a photograph, which the analysed copy blurs (a click's selection has
# its own, CLICK_MARGIN); chosen on the three tuning manuscripts (F1 0.742 with none, 0.763 with
# 1, 0.768 with 2: docs/detection.md), the smaller for the false alarms it widens
AUTOMATIC_MARGIN = 1


def to_rgb8(image):
    """8-bit RGB (H, W, 3) of any painting's samples."""
    image = np.asarray(image)
    image = image[..., None] if image.ndim == 2 else image
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = to_uint8(image)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]


def planes(image, rows=512):
    """The darkest channel and the lightness (mean of the channels) of a painting as 8-bit
    planes (H, W), made strip by strip: a few bytes a pixel for a large scan."""
    image = np.asarray(image)
    darkest = np.empty(image.shape[:2], np.uint8)
    lightness = np.empty(image.shape[:2], np.uint8)
    for top in range(0, image.shape[0], rows):
        block = to_rgb8(image[top:top + rows])
        darkest[top:top + rows] = block.min(axis=2)
        lightness[top:top + rows] = (block.sum(axis=2, dtype=np.uint16) + 1) // 3
    return darkest, lightness


def analysis_copy(image, side=ANALYSIS_SIDE):
    """(the painting as 8-bit RGB, shrunk to at most side pixels on its longest side; the scale
    from the painting's pixels to the copy's). A large scan is shrunk strip by strip."""
    height, width = image.shape[:2]
    scale = min(1.0, side / max(height, width))
    if scale == 1.0:
        return to_rgb8(image), 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA on 8-bit strips of the painting, each making whole rows of the copy.
    rows = max(1, int(512 * scale))
    strips = []
    for top in range(0, size[1], rows):
        bottom = min(size[1], top + rows)
        a, b = int(round(top / scale)), min(height, int(round(bottom / scale)))
        strips.append(cv2.resize(to_rgb8(image[a:b]), (size[0], bottom - top),
                                 interpolation=cv2.INTER_AREA))
    return np.concatenate(strips), scale


def full_size(found, shape, grow=0):
    """The analysed copy's mask (h, w) bool enlarged to the painting's (H, W), smooth-edged,
    then grown (or shrunk) by grow pixels: uint8, 1 = loss."""
    height, width = shape
    if found.shape == (height, width):
        mask = found.astype(np.uint8, copy=False)
    else:
        mask = cv2.resize(found.astype(np.uint8) * np.uint8(255), (width, height),
                          interpolation=cv2.INTER_LINEAR)
        mask = (mask >= 128).view(np.uint8)
    if grow:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(grow) + 1,) * 2)
        mask = (cv2.dilate if grow > 0 else cv2.erode)(mask, disc)
    return mask


def clean(mask, min_area):
    """Drop regions under min_area pixels and close small gaps inside losses (a loss is covered
    whole, not as a sieve)."""
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return keep[labels]


# --- the learned detector -------------------------------------------------------------------

def predict_damage(model, rgb8):
    """The model's probability of loss (h, w) float32 for an 8-bit RGB image, padded by
    reflection to a multiple of 32 on each side."""
    import tensorflow as tf

    from models.detector import DEPTH
    height, width = rgb8.shape[:2]
    multiple = 2**DEPTH
    pad_h, pad_w = -height % multiple, -width % multiple
    padded = cv2.copyMakeBorder(rgb8, 0, pad_h, 0, pad_w, cv2.BORDER_REFLECT_101)
    x = tf.convert_to_tensor(padded[None].astype(np.float32) / 255.0)
    probability = np.asarray(model(x, training=False))[0, :height, :width, 0]
    check_finite(probability, "the damage detector")  # NaN would be a silent 0% mask
    return probability


def innermost(region):
    """(x, y) of the pixel of a region (bool (H, W)) farthest from its edge: where a user would
    click it."""
    inside = cv2.distanceTransform(region.view(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(inside), inside.shape)
    return int(x), int(y)


# --- pure-white marks -----------------------------------------------------------------------

def white_rule(image, min_area, white=0.95, contrast=0.05, background_size=11):
    """Near-white cores (darkest channel at least white, in regions of at least min_area pixels)
    grown by one pixel into neighbours brighter than their local background by contrast:
    pure-white marks and their blended edges, at the painting's full resolution (a white crack
    one pixel wide vanishes in a shrunk copy)."""
    darkest, lightness = planes(image)
    cores = clean(darkest >= white * 255.0 - 0.5, min_area).view(np.uint8)
    del darkest
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (background_size,) * 2)
    background = cv2.morphologyEx(lightness, cv2.MORPH_OPEN, disc)
    brighter = (cv2.subtract(lightness, background) > 255.0 * contrast).view(np.uint8)
    del background, lightness
    return cv2.dilate(cores, np.ones((3, 3), np.uint8)) & (brighter | cores)


