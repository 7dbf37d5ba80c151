"""Fill the damage of a painting at its own resolution, in place, in bounded memory.

The painting stays in its own samples (8- or 16-bit, or float), and no full-size float copy is
ever made: the mask's regions (8-connected) are grouped by the tile of TILE x TILE pixels their
top-left corner falls in, and each group is filled on a crop around it (its regions' bounding box
and a margin of context), converted to float32 there. A region is always filled whole, with the
same crop, so the result does not depend on where tiles meet; only its own pixels are written
back. Known pixels are never written.

Classical methods fill each crop directly. The wide fill of `auto` and `textured` starts at a
model's size (256 x 384): the whole painting and mask are shrunk and filled there by the learned
model, or, without one, by the mean of the pyramid fill and OpenCV Telea (their errors differ,
and the mean beats either alone on large holes: docs/filling.md). Each crop then takes the
enlarged fill (cubic) for its holes, blended in seamlessly: the difference between the painting
and the enlargement, known on the crop's known pixels, is spread into the holes with the pyramid
fill, so at a hole's edge the fill meets its surroundings exactly and deep inside it is the
model's own.

`auto` sends thin regions (every pixel within `thin_radius` pixels of known paint: specks, cracks,
strokes) to OpenCV Navier-Stokes with a radius of 1 pixel (on 24 training paintings' tiny holes
28.3 dB against 27.9 with the radius 3 that suits wide holes), a few milliseconds, and wide ones
to the model. `textured` does the same, then gives each wide region a PatchMatch fill at full
resolution on a crop around it, and keeps the low frequencies of the mean of three fills (the
model's and Telea's at the model's size, PatchMatch's) with PatchMatch's own high frequencies:
the painting's grain instead of a smooth smear, at a PSNR still above every classical method's
(evaluate.py; docs/filling.md says how this was chosen).
"""
import cv2
import numpy as np

from filling import registry
from filling.classical import patchmatch_fill, pyramid_fill, source_margin, textured
from models.loading import model_size
from utils.images import IMAGE_SIZE, from_float, to_float
from utils.masks import composite, damage

TILE = 128
THIN_RADIUS_NS = 1  # Navier-Stokes' neighbourhood for auto's thin regions (see above)
BLEND_MARGIN = 16


class Regions:
    """The mask's 8-connected regions, their bounding boxes and the tile each belongs to."""

    def __init__(self, holes):
        self.holes = holes
        count, self.labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=8)
        self.boxes = stats[:, :4]  # x, y, width, height; row 0 is the known paint
        self.count = count - 1
        columns = -(-holes.shape[1] // TILE)
        self.tile = (stats[:, 1] // TILE) * columns + stats[:, 0] // TILE
        self.tile[0] = -1

    def groups(self, selected=None):
        """(label ids, (x0, y0, x1, y1) union box) per tile, of the selected regions (a boolean
        array over labels; default all)."""
        ids = np.arange(1, self.count + 1)
        if selected is not None:
            ids = ids[selected[1:]]
        order = np.argsort(self.tile[ids], kind="stable")
        ids = ids[order]
        tiles = self.tile[ids]
        for chunk in np.split(ids, np.flatnonzero(np.diff(tiles)) + 1):
            if len(chunk):
                x, y, w, h = self.boxes[chunk].T
                yield chunk, (x.min(), y.min(), (x + w).max(), (y + h).max())

    def crop(self, box, margin):
        x0, y0, x1, y1 = box
        height, width = self.holes.shape
        return (slice(max(0, y0 - margin), min(height, y1 + margin)),
                slice(max(0, x0 - margin), min(width, x1 + margin)))

    def own(self, crop, ids):
        """Which pixels of the crop belong to the regions ids."""
        member = np.zeros(self.count + 1, bool)
        member[ids] = True
        return member[self.labels[crop]]

    def inscribed_radius(self):
        """Per label: the largest distance from any of its pixels to the nearest known pixel.
        Each region's distances are computed within its tile's crop, which holds all of it and
        the known ring around it."""
        radius = np.zeros(self.count + 1, np.float32)
        for ids, box in self.groups():
            crop = self.crop(box, 1)
            distance = cv2.distanceTransform(self.holes[crop], cv2.DIST_L2, 3)
            own = self.own(crop, ids)
            np.maximum.at(radius, self.labels[crop][own], distance[own])
        radius[0] = 0.0
        return radius


def _rgb(crop):
    """A crop of (h, w, 1 or 3) samples as float32 RGB."""
    values = to_float(crop)
    return np.repeat(values, 3, axis=2) if values.shape[2] == 1 else values


def _write(pixels, crop, own, values):
    """Write float RGB values into pixels[crop] where own; gray takes the mean of the three."""
    if pixels.shape[2] == 1:
        values = values.mean(axis=2, keepdims=True)
    pixels[crop][own] = from_float(values[own], pixels.dtype)


def classical(image, mask, method, **options):
    """Fill one float RGB image's holes with a classical method (options: radius for those that
    take one); known pixels are kept exactly."""
    entry = registry.get(method)
    if not entry.classical:
        raise ValueError(f"{method} is not a classical method: fill() or restore_image() takes it")
    filled = entry.image_fill(image, mask, **options)
    return composite(filled, image, mask).astype(np.float32)


def _fill_classical(pixels, regions, selected, method, radius):
    entry = registry.get(method)
    options = {"radius": radius} if entry.radius else {}
    for ids, box in regions.groups(selected):
        crop = regions.crop(box, entry.margin(box, radius))
        holes = regions.holes[crop]
        own = regions.own(crop, ids)
        if pixels.dtype.name in entry.native:
            # the samples filled in their own type: no float round trip
            pixels[crop][own] = entry.native_fill(pixels[crop], holes, **options)[own]
        else:
            _write(pixels, crop, own, classical(_rgb(pixels[crop]), holes, method, **options))


def _small_fill(model, pixels, mask, with_telea):
    """The painting (shrunk to the model's size, or the working size without a model) filled by
    the model (or the pyramid fill) and, with_telea, the mean of that and Telea's fill."""
    if model is not None:
        height, width = model_size(model)
    else:  # the working size, or the painting's own when it is smaller
        height, width = (IMAGE_SIZE if pixels.shape[0] * pixels.shape[1] > np.prod(IMAGE_SIZE)
                         else pixels.shape[:2])
    small = to_float(cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA))
    small = small[..., None] if small.ndim == 2 else small
    small = np.repeat(small, 3, axis=2) if small.shape[2] == 1 else small
    # A small pixel is missing if any of the pixels it covers is: white paint must not leak in.
    small_mask = (cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA) > 0)
    small_mask = small_mask.astype(np.float32)
    if model is None:
        filled = classical(small, small_mask, "pyramid")
    else:
        inputs = [damage(small, small_mask)[None], small_mask[None, ..., None]]
        # One image: an eager call skips predict's graph tracing (0.7 s, more than the call).
        output = np.asarray(model(inputs if len(model.inputs) == 2 else inputs[0],
                                  training=False))
        filled = composite(output[0], small, small_mask).astype(np.float32)
    if with_telea:
        filled = (filled + classical(small, small_mask, "telea")) / 2.0
    return filled


def _enlarged(small, crop, shape):
    """The cubic enlargement of small to shape, computed for crop only (as cv2.resize would)."""
    sy, sx = small.shape[0] / shape[0], small.shape[1] / shape[1]
    y0, x0 = crop[0].start, crop[1].start
    affine = np.float32([[sx, 0, (x0 + 0.5) * sx - 0.5], [0, sy, (y0 + 0.5) * sy - 0.5]])
    size = (crop[1].stop - x0, crop[0].stop - y0)
    return cv2.warpAffine(small, affine, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _fill_wide(pixels, regions, selected, model, texture=False):
    """Fill the selected regions from the shrunk fill (see _small_fill), enlarged and blended in;
    with texture, add PatchMatch's grain at full resolution (see the module's docstring)."""
    mask = (regions.labels > 0) if selected is None else selected[regions.labels]
    small = _small_fill(model, pixels, mask.astype(np.uint8), texture or model is None)
    del mask
    for ids, box in regions.groups(selected):
        # a ring of paint around the holes pins the blend at their edges; PatchMatch needs more
        crop = regions.crop(box, source_margin(box) if texture else BLEND_MARGIN)
        holes, painted = regions.holes[crop], _rgb(pixels[crop])
        enlarged = _enlarged(small, crop, regions.holes.shape)
        # Seamless edges: spread the known pixels' difference from the enlargement inward.
        filled = enlarged + pyramid_fill(painted - enlarged, holes)
        if texture:
            patch = patchmatch_fill(painted, holes)
            # the mean of model, Telea (both in `filled`) and PatchMatch, with PatchMatch's grain
            filled = textured((2.0 * filled + patch) / 3.0, patch)
        _write(pixels, crop, regions.own(crop, ids), np.clip(filled, 0.0, 1.0))


def fill(pixels, mask, method="auto", model=None, radius=3, thin_radius=6.0):
    """Fill pixels (H, W, C: 1 gray or 3 RGB; uint8, uint16 or float in [0, 1]) in place where
    mask (H, W) is nonzero. method: a name of filling/registry.py, or "model" for the model
    alone (thin-wide methods use the model for wide regions when given, else the pyramid fill);
    radius is the neighbourhood of the methods that take one. Pixels outside the mask are not
    written."""
    entry = registry.get(method)
    regions = Regions((np.asarray(mask) > 0).astype(np.uint8))
    if regions.count == 0:
        return pixels
    if entry.strategy == "model":
        _fill_wide(pixels, regions, None, model)
    elif entry.classical:
        _fill_classical(pixels, regions, None, method, radius)
    else:
        wide = regions.inscribed_radius() > thin_radius
        if (~wide[1:]).any():
            _fill_classical(pixels, regions, ~wide, "ns", THIN_RADIUS_NS)
        if wide[1:].any():
            # The thin regions are filled by now, so the wide fill sees them as paint.
            _fill_wide(pixels, regions, wide, model if entry.uses_model else None,
                       texture=entry.texture)
    return pixels


def restore_image(image, mask, method="auto", model=None, radius=3, thin_radius=6.0):
    """A float32 RGB image (H, W, 3) in [0, 1] with its holes filled; known pixels exact."""
    return fill(np.array(image, np.float32), mask, method, model, radius, thin_radius)


def region_sizes(mask):
    """Each missing pixel's region's inscribed radius (0 where known)."""
    regions = Regions((np.asarray(mask) > 0.5).astype(np.uint8))
    return regions.inscribed_radius()[regions.labels]
