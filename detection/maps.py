"""The pixel-level pieces of finding paint loss, which every detection method (registry.py) and
the clicks (detect.py) are made of: the analysed copy of a painting and the mask enlarged back
to its size, the detector network's probability of loss, the white rule, cleaning a mask, and
where a user would click a region."""
from functools import lru_cache

import cv2
import numpy as np

from utils.errors import check_finite
from utils.images import to_uint8

ANALYSIS_SIDE = 512  # the network's coarse copy of a painting: at most this many pixels a side
# ... and its detail copy, where a flake of a large scan still shows at the size the network was
# trained on (2-30 px): at most this many pixels a side (0: the painting's own size), read in
# tiles; by default the copy the painting's classifier analyses too (learn.py). Chosen on the
# tuning manuscripts, the clean paintings and bench_large_scans.py's flakes (docs/detection.md)
DETAIL_SIDE = 1600
# ... read only where it is at least an octave finer than the coarse copy: a smaller painting's
# 2-pixel flakes still show there. (Read on every painting, the detail copy marked more of the
# 768-px clean corpus paintings, 0.32% against 0.29%, above the 0.3% target: docs/detection.md)
DETAIL_FROM = 2 * ANALYSIS_SIDE
# the network reads a copy larger than TILE in tiles of TILE pixels a side, each with HALO
# pixels of the painting around it: more than the network's receptive field reaches (about 140
# px each way), and both multiples of its 32-pixel stride, so that every tile's pixels are
# computed as the whole copy's would be (one result whatever the tile size; memory bounded)
TILE = 1536
HALO = 160
SURE_LOSS = 0.9     # above it, a loss the image-level decision counts
# pixels of the painting added around every loss a network method finds (before --grow): the
# soft rim a loss leaves in a photograph, which the analysed copy blurs (a click's selection has
# its own, CLICK_MARGIN); chosen on the three tuning manuscripts (F1 0.742 with none, 0.763 with
# 1, 0.768 with 2: docs/detection.md), the smaller for the false alarms it widens
AUTOMATIC_MARGIN = 1
# a loss's rim, enlarged from a copy, is decided pixel by pixel only where the loss's colour and
# the paint's around it differ by at least this (8-bit RGB distance): trim_rims
EDGE_CONTRAST = 24
# ... over the outer RIM pixels of each loss on the copy it was found on: the network and the
# painting's classifier mark a rim of 1-2 pixels of the copy around a hard-edged loss, which
# enlarged to a 24-megapixel scan is 4-8 of its pixels (chosen on bench_large_scans.py's
# paintings: precision 0.49, 0.66, 0.83, 0.92, 0.95 with none, 1, 2, 3, 4; the tuning
# manuscripts' F1 0.757, 0.755, 0.754 with none, 2, 3: docs/detection.md)
RIM = 3


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


class Copies:
    """A painting's analysed copies (analysis_copy), each made once however many steps of a
    detection read it (the network, the painting's classifier, the rims): shrinking a
    24-megapixel scan takes about 0.1 s a copy."""

    def __init__(self, image):
        self.image = np.asarray(image)
        self._made = {}

    def __call__(self, side=ANALYSIS_SIDE):
        """analysis_copy(image, side), made on first asking."""
        side = min(side, max(self.image.shape[:2]))
        if side not in self._made:
            self._made[side] = analysis_copy(self.image, side)
        return self._made[side]


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
    return grown(mask, grow)


def grown(mask, grow):
    """A mask (H, W) uint8 widened by grow pixels (negative: narrowed)."""
    if grow:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(grow) + 1,) * 2)
        mask = (cv2.dilate if grow > 0 else cv2.erode)(mask, disc)
    return mask


def trim_rims(mask, found, image, rows=256, copies=None):
    """The mask (H, W) uint8 enlarged from found (h, w) bool, a copy's losses, with each loss's
    rim (the copy's outer RIM pixels of it, a band of RIM * H / h pixels of the painting) kept
    only where the painting's own pixel is nearer the loss's colour than the paint's around it:
    what the copy blurred, decided at the painting's resolution. Where a loss's colour and the
    paint's differ by less than EDGE_CONTRAST the rim is kept whole. In place; strip by strip.
    copies: the painting's Copies, when the caller has them."""
    height, width = mask.shape
    h, w = found.shape
    copy, _ = (copies or Copies(image))(max(h, w))
    if copy.shape[:2] != (h, w):
        copy = cv2.resize(copy, (w, h), interpolation=cv2.INTER_AREA)
    copy = copy.astype(np.float32)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    found8 = found.astype(np.uint8)
    core = cv2.erode(found8, cross, iterations=RIM)
    # the loss's colour L: its core, its rim (mixed with the paint in the copy) a quarter; the
    # paint's P; asked only at the copy's pixels a rim pixel of the painting is read from
    near = cv2.dilate(found8, np.ones((3, 3), np.uint8)) > 0
    loss = local_mean(copy, 0.25 * found8 + 0.75 * core, where=near)
    paint = local_mean(copy, 1.0 - cv2.dilate(found8, np.ones((5, 5), np.uint8)), where=near)
    # a pixel p is nearer P than L where (P - L) . (2p - L - P) > 0; decided only where L and
    # P differ by at least EDGE_CONTRAST
    toward, middle = paint - loss, paint + loss
    decided = near & (np.square(toward).sum(2) >= EDGE_CONTRAST**2)
    core_mask = full_size(core > 0, (height, width))
    ys = np.minimum(((np.arange(height) + 0.5) * (h / height)).astype(np.int64), h - 1)
    xs = np.minimum(((np.arange(width) + 0.5) * (w / width)).astype(np.int64), w - 1)
    for top in range(0, height, rows):
        r, c = np.nonzero(mask[top:top + rows] > core_mask[top:top + rows])
        at_r, at_c = ys[top + r], xs[c]
        kept = decided[at_r, at_c]
        if not kept.any():
            continue
        r, c, at_r, at_c = r[kept], c[kept], at_r[kept], at_c[kept]
        # only the pixels asked, as 8-bit RGB (converting the whole strip took longer)
        pixel = to_rgb8(image[top:top + rows][r, c][:, None])[:, 0].astype(np.float32)
        drop = np.einsum("ij,ij->i", toward[at_r, at_c], 2 * pixel - middle[at_r, at_c]) > 0
        mask[top + r[drop], c[drop]] = 0
    return mask


def local_mean(copy, weight, sizes=(9, 33), where=None):
    """The weighted mean colour (h, w, 3) of copy around each pixel, in the smallest window of
    sizes that holds any weight; the whole copy's where none does. With where (h, w) bool,
    only there (0 elsewhere), in less time."""
    weight = weight.astype(np.float32)
    weighted = copy * weight[..., None]
    mean = np.zeros_like(copy)
    todo = np.ones(weight.shape, bool) if where is None else where.copy()
    for size in sizes:
        total = cv2.boxFilter(weight, -1, (size, size), normalize=False)
        sums = cv2.boxFilter(weighted, -1, (size, size), normalize=False)
        here = todo & (total > 1e-3)
        mean[here] = sums[here] / total[here][:, None]
        todo &= ~here
    if todo.any():
        mean[todo] = weighted.reshape(-1, 3).sum(0) / max(float(weight.sum()), 1e-3)
    return mean


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

def predict_damage(model, rgb8, tile=TILE, halo=HALO):
    """The model's probability of loss (h, w) float32 for an 8-bit RGB image: in tiles of tile
    pixels a side with halo pixels of context each way (see TILE), each padded by reflection to
    a multiple of 32 where it meets the image's bottom or right edge."""
    from models.detector import DEPTH
    stride = 2**DEPTH
    if tile % stride or halo % stride or tile <= 0 or halo < 0:
        raise ValueError(f"tile {tile} and halo {halo}: positive multiples of {stride}")
    height, width = rgb8.shape[:2]
    if height <= tile + halo and width <= tile + halo:
        return _predict(model, rgb8)
    probability = np.empty((height, width), np.float32)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(height, top + tile), min(width, left + tile)
            a, c = max(0, top - halo), max(0, left - halo)
            part = _predict(model, rgb8[a:min(height, bottom + halo), c:min(width, right + halo)])
            probability[top:bottom, left:right] = part[top - a:bottom - a, left - c:right - c]
    return probability


def warm_up(model):
    """The model's first call made on a small image: TensorFlow's start-up, paid before a
    painting is timed."""
    _predict(model, np.zeros((64, 64, 3), np.uint8))


def _predict(model, rgb8):
    """The model's probability of loss on one image, padded by reflection at its bottom and right
    to a multiple of 32 on each side."""
    import tensorflow as tf

    from models.detector import DEPTH
    height, width = rgb8.shape[:2]
    multiple = 2**DEPTH
    pad_h, pad_w = -height % multiple, -width % multiple
    padded = cv2.copyMakeBorder(np.ascontiguousarray(rgb8), 0, pad_h, 0, pad_w,
                                cv2.BORDER_REFLECT_101)
    x = tf.convert_to_tensor(padded[None].astype(np.float32) / 255.0)
    probability = np.array(_graph(model)(x)[0, :height, :width, 0])  # writable
    check_finite(probability, "the damage detector")  # NaN would be a silent 0% mask
    return probability


@lru_cache(maxsize=4)  # as many as models/loading.py keeps loaded
def _graph(model):
    """The model's forward pass as one TensorFlow graph for images of any size, traced once:
    a 1,600-px copy in 0.7 s where calling the model op by op took 1.4 (2-core CPU). Anything
    but a Keras model (a stand-in) is called as it is."""
    import keras
    import tensorflow as tf
    if not isinstance(model, keras.Model):
        return lambda x: model(x, training=False)
    return tf.function(lambda x: model(x, training=False), input_signature=[
        tf.TensorSpec((1, None, None, 3), tf.float32)])


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


