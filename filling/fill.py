"""Fill the damage of a painting at its own resolution, in place, in bounded memory.

The painting stays in its own samples (8- or 16-bit, or float), and no full-size float copy is
ever made: every fill works on crops around the losses, converted to float32 there, and writes
back only the losses' own pixels. Known pixels are never written.

Classical methods fill the mask's regions (8-connected) grouped by the tile of TILE x TILE pixels
their top-left corner falls in, each group on a crop around it (its regions' bounding box and a
margin of context). A region is always filled whole, with the same crop.

The wide fill of `auto`, `smooth` and `textured` works at each loss's own scale. Each wide loss
opens a window (_window): the loss with as much paint again on each side (CONTEXT), at least the
model's size, in the model's aspect or its transpose, so the painting is never squashed; a loss
too large for any window takes the painting's whole extent. The losses that lie inside a window
with paint around them are filled with it. Each window is shrunk to the model's size (never
enlarged; a small loss at full resolution, on a window of a half or a quarter of the model's
size with the model rebuilt for it), transposed when portrait, padded by reflection, and filled
by the learned model (or, without one, by the mean of the pyramid fill and OpenCV Telea: their
errors differ, and the mean beats either alone on large holes: docs/filling.md). The fill is
enlarged (cubic) and blended in seamlessly on crops around the losses of each BLEND_CELL cell:
the difference between the painting and the enlargement, known on the crop's known pixels, is
spread into the holes with the pyramid fill, so at a hole's edge the fill meets its
surroundings exactly and deep inside it is the model's own. Every wide hole counts as unknown
in every crop, filled or not, so the result needs no order; windows and cells depend on the mask
alone, never on the tiles.

`auto` sends thin regions (every pixel within `thin_radius` pixels of known paint: specks,
cracks, strokes) to the speck fill (0.7 biharmonic + 0.3 Navier-Stokes with a radius of 1 px,
classical.speck_fill) and wide ones to the model, then adds half of the painting's own
brushwork to them (classical.brushwork: the model's fill is the guide, and each block of the
loss takes the detail finer than 3 px of a block of paint nearby whose coarser colours match the
fill's there): a smooth fill is a smear where paint has brushwork. `brushwork` adds all of it
(the most texture), `grain` the paint's finest grain instead (classical.grain; auto until issue
30), and `smooth` neither (the highest PSNR). `textured`
gives each wide region a PatchMatch fill at full resolution on a crop around it instead, and
keeps the low frequencies of the mean of three fills (the model's and Telea's, PatchMatch's)
with PatchMatch's own high frequencies (slower; docs/filling.md says how each was chosen).
"""
import cv2
import numpy as np

from filling import registry
from filling.classical import patchmatch_fill, pyramid_fill, source_margin, textured
from models.loading import model_size
from utils.errors import UserError, check_finite
from utils.images import IMAGE_SIZE, from_float, to_float
from utils.masks import composite, damage

TILE = 128
BLEND_MARGIN = 16


class Regions:
    """The mask's 8-connected regions, their bounding boxes and the tile each belongs to."""

    def __init__(self, holes):
        self.holes = holes
        count, self.labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=8)
        self.boxes = stats[:, :4]  # x, y, width, height; row 0 is the known paint
        self.area = stats[:, 4]
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


class _Tally:
    """Work done, in pixels filled per stage, reported to progress(share done) as it grows."""

    def __init__(self, progress, total):
        self.progress, self.total, self.done = progress, max(int(total), 1), 0

    def add(self, pixels):
        self.done += int(pixels)
        if self.progress is not None:
            self.progress(min(1.0, self.done / self.total))


def _fill_classical(pixels, regions, selected, method, radius, tally=None):
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
        if tally is not None:  # once the group is filled
            tally.add(regions.area[ids].sum())


CONTEXT = 1.0  # paint read on each side of a wide loss, in units of the loss's longer side
BATCH = 8      # crops the model fills in one call


def _window(box, shape, size):
    """The crop (top, left, height, width) a wide loss (x0, y0, x1, y1) is filled on: the loss
    with CONTEXT on each side, at least the model's size (so the model sees it at full
    resolution or shrunk, never enlarged), in the model's aspect (or its transpose where only
    that fits the painting), centred on the loss and shifted inside the painting. Where neither
    orientation fits, the painting's whole extent in that direction."""
    height, width = shape
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    need = (y1 - y0 + 2 * CONTEXT * side, x1 - x0 + 2 * CONTEXT * side)
    orientations = [size, size[::-1]]
    if height > width:  # a portrait painting: its own orientation first
        orientations.reverse()
    for h_unit, w_unit in orientations + [orientations[0]]:
        scale = max(need[0] / h_unit, need[1] / w_unit, 1.0)
        h, w = int(np.ceil(h_unit * scale)), int(np.ceil(w_unit * scale))
        if h <= height and w <= width:
            break
    h, w = min(h, height), min(w, width)
    top = int(np.clip(round((y0 + y1 - h) / 2), 0, height - h))
    left = int(np.clip(round((x0 + x1 - w) / 2), 0, width - w))
    return top, left, h, w


def _unit(box, size, ladder):
    """The model size a loss (x0, y0, x1, y1) is filled at: the smallest of ladder (sizes the
    model takes, smallest first) whose window holds the loss with its context at full
    resolution, else the largest, size."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    need = sorted((y1 - y0 + 2 * CONTEXT * side, x1 - x0 + 2 * CONTEXT * side))
    for unit in ladder:
        if need[0] <= min(unit) and need[1] <= max(unit):
            return unit
    return size


def _window_groups(regions, ids, size, ladder=()):
    """[(window, member ids, model size)]: the wide regions ids grouped by the window each is
    filled on. The largest region unassigned (then the lowest label) opens a window (see
    _window) at the smallest model size of ladder that holds it at full resolution; every
    unassigned region that lies inside it with paint around it (a quarter of its own side, at
    least BLEND_MARGIN px, or the painting's edge) joins it. The grouping depends on the mask
    alone, never on tiles."""
    boxes = regions.boxes[ids].astype(np.int64)
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    pad = np.maximum(BLEND_MARGIN, np.maximum(boxes[:, 2], boxes[:, 3]) // 4)
    height, width = regions.holes.shape
    need = (np.maximum(x0 - pad, 0), np.maximum(y0 - pad, 0), np.minimum(x1 + pad, width),
            np.minimum(y1 + pad, height))
    order = np.lexsort((ids, -(boxes[:, 2].astype(np.int64) * boxes[:, 3])))
    free = np.ones(len(ids), bool)
    groups = []
    for index in order:
        if not free[index]:
            continue
        box = (x0[index], y0[index], x1[index], y1[index])
        unit = _unit(box, size, ladder)
        top, left, h, w = window = _window(box, (height, width), unit)
        inside = (free & (need[0] >= left) & (need[1] >= top) & (need[2] <= left + w)
                  & (need[3] <= top + h))
        inside[index] = True
        free &= ~inside
        groups.append((window, ids[inside], unit))
    return groups


_RESIZED = {}  # (id of a model, size) -> the same model built for inputs of that size


def model_at(model, size):
    """model with inputs of size (height, width) and the same weights (a fully convolutional
    model takes any size its depth divides), cached; a UserError where it cannot be rebuilt so
    (_any_size says which can)."""
    if model is None or tuple(model_size(model)) == tuple(size):
        return model
    key = (id(model), tuple(size))
    if key not in _RESIZED:
        try:
            config = model.get_config()
            for layer in config["layers"]:
                if layer["class_name"] == "InputLayer":
                    shape = layer["config"]["batch_shape"]
                    layer["config"]["batch_shape"] = [shape[0], size[0], size[1], shape[3]]
            resized = model.__class__.from_config(config)
            resized.set_weights(model.get_weights())
            _RESIZED[key] = (model, resized)  # the model kept alive: its id stays its own
        except Exception as error:  # noqa: BLE001 (any layer that will not take the size)
            raise UserError(f"the model {model.name} cannot fill windows of {size[0]} x "
                            f"{size[1]} px ({type(error).__name__}: {error})")
    return _RESIZED[key][1]


def _compiled(model):
    """model's inference as one TensorFlow graph for any batch of its size (traced once per
    model, then a fraction of the eager call's per-operation cost on many windows)."""
    import keras
    if not isinstance(model, keras.Model):  # any callable with the model's inputs
        return lambda *inputs: model(list(inputs) if len(inputs) > 1 else inputs[0],
                                     training=False)
    if id(model) not in _GRAPHS:
        import tensorflow as tf
        signature = [tf.TensorSpec((None, *t.shape[1:]), tf.float32) for t in model.inputs]
        graph = tf.function(lambda *inputs: model(
            list(inputs) if len(inputs) > 1 else inputs[0], training=False),
            input_signature=signature, reduce_retracing=True)
        _GRAPHS[id(model)] = (model, graph)  # the model kept alive: its id stays its own
    return _GRAPHS[id(model)][1]


_GRAPHS = {}


def _any_size(model):
    """Whether model can be rebuilt for other input sizes (no layer whose weights depend on the
    size, such as Context Encoder 2's channel-wise fully-connected layer)."""
    return not any(layer.__class__.__name__ == "ChannelwiseDense" for layer in model.layers)


GRAPH_BATCHES = 4  # more batches than this (in one fill or in all so far): the model traced
_EAGER_BATCHES = {}  # id(model) -> (model, batches this process has filled with it eagerly)


def _use_graph(model, batches):
    """Whether to fill batches batches with the model as one traced graph (_compiled): once it
    is traced, always; before, where these batches with those already filled eagerly by this
    process pass GRAPH_BATCHES (its trace costs about five eager calls, and then each call a
    quarter to a half of one: a folder of paintings pays it once). The two give the same
    values (a test)."""
    if id(model) in _GRAPHS:
        return True
    done = _EAGER_BATCHES.get(id(model), (model, 0))[1]
    if done + batches > GRAPH_BATCHES:
        return True
    _EAGER_BATCHES[id(model)] = (model, done + batches)  # kept alive: its id stays its own
    return False


LADDER = (4, 2)  # smaller windows for small losses: the model's size divided by these


def _model_view(pixels, holes, window, size, pad=True):
    """The window of the painting and its holes at the model's size: (image, mask, (height,
    width) of the part that is the painting, transposed). Shrunk (never enlarged), transposed
    when the window is portrait, and padded by reflection to the model's size, so the painting
    is never squashed. pad=False (a fill that takes any size): shrunk to the model's area, in
    its own orientation, not padded."""
    top, left, h, w = window
    crop = pixels[top:top + h, left:left + w]
    holes = holes[top:top + h, left:left + w]
    if not pad:
        scale = min(1.0, (size[0] * size[1] / (h * w)) ** 0.5)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
    transposed = pad and h > w and size[0] < size[1]
    if transposed:
        crop, holes = crop.transpose(1, 0, 2), holes.T
    scale = min(size[0] / crop.shape[0], size[1] / crop.shape[1], 1.0)
    shape = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    small = cv2.resize(np.ascontiguousarray(crop), shape[::-1], interpolation=cv2.INTER_AREA)
    # A small pixel is missing if any of the pixels it covers is: white paint must not leak in.
    small_mask = cv2.resize(np.ascontiguousarray(holes), shape[::-1],
                            interpolation=cv2.INTER_AREA) > 0
    small = _rgb(small.reshape(shape + (-1,)))
    bottom, right = size[0] - shape[0], size[1] - shape[1]
    border = cv2.BORDER_REFLECT_101 if min(shape) > 1 else cv2.BORDER_REPLICATE
    small = cv2.copyMakeBorder(small, 0, bottom, 0, right, border)
    small_mask = cv2.copyMakeBorder(small_mask.astype(np.uint8), 0, bottom, 0, right, border)
    return small, small_mask.astype(np.float32), shape, transposed


def _small_fills(model, views, with_telea, graph=False):
    """Each view (see _model_view) filled at the model's size by the model (or, without one,
    the pyramid fill) and, with_telea, the mean of that and Telea's fill; cut back to the
    painting's part and its orientation. graph: call the model as one traced graph (its trace
    costs about five eager calls, so only for many windows)."""
    if model is None:  # each view at its own size
        filled = [classical(i, m, "pyramid") for i, m, _, _ in views]
        if with_telea:
            filled = [(f + classical(i, m, "telea")) / 2.0 for f, (i, m, _, _) in
                      zip(filled, views)]
        return [f[:shape[0], :shape[1]] for f, (_, _, shape, _) in zip(filled, views)]
    images = np.stack([v[0] for v in views])
    masks = np.stack([v[1] for v in views])
    inputs = [damage(images, masks), masks[..., None]]
    inputs = inputs if len(model.inputs) == 2 else inputs[:1]
    output = np.asarray(_compiled(model)(*inputs) if graph else
                        model(inputs if len(inputs) == 2 else inputs[0], training=False))
    check_finite(output, "the inpainting model")
    filled = composite(output, images, masks).astype(np.float32)
    if with_telea:
        filled = (filled + np.stack([classical(i, m, "telea")
                                     for i, m in zip(images, masks)])) / 2.0
    results = []
    for values, (_, _, shape, transposed) in zip(filled, views):
        values = values[:shape[0], :shape[1]]
        results.append(np.ascontiguousarray(values.transpose(1, 0, 2) if transposed else values))
    return results


def _enlarged(small, window, crop):
    """small (the fill of window, shrunk) enlarged to the window's size (cubic), computed for
    crop (slices of the painting inside window) only, as cv2.resize would."""
    top, left, h, w = window
    sy, sx = small.shape[0] / h, small.shape[1] / w
    y0, x0 = crop[0].start - top, crop[1].start - left
    affine = np.float32([[sx, 0, (x0 + 0.5) * sx - 0.5], [0, sy, (y0 + 0.5) * sy - 0.5]])
    size = (crop[1].stop - crop[1].start, crop[0].stop - crop[0].start)
    return cv2.warpAffine(small, affine, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _fill_wide(pixels, regions, selected, model, texture=False, detail_strength=0.0,
               tally=None, detail=None, detail_margin=0):
    """Fill the selected regions, each at its own scale: on a window around it (see _window),
    shrunk to the model's size and filled there (see _small_fills), enlarged and blended in;
    with texture, add PatchMatch's grain at full resolution; with detail_strength, that much of
    the painting's own detail copied in from nearby paint by detail (classical.brushwork or
    classical.grain), reading detail_margin px around the losses (see the module's
    docstring)."""
    ids = np.arange(1, regions.count + 1)
    if selected is not None:
        ids = ids[selected[1:]]
    wide = np.zeros(regions.count + 1, bool)
    wide[ids] = True
    size = tuple(model_size(model)) if model is not None else IMAGE_SIZE
    # small losses on small windows, at the model rebuilt for their size: a fraction of the cost
    ladder = [(size[0] // d, size[1] // d) for d in LADDER
              if not size[0] % (32 * d) and not size[1] % (32 * d)
              and (model is None or _any_size(model))]
    groups = _window_groups(regions, ids, size, ladder)
    for unit in dict.fromkeys(g[2] for g in groups):
        same = [g for g in groups if g[2] == unit]
        graph = model is not None and _use_graph(model_at(model, unit), -(-len(same) // BATCH))
        for start in range(0, len(same), BATCH):
            chunk = same[start:start + BATCH]
            views = [_model_view(pixels, regions.holes, window, unit, pad=model is not None)
                     for window, _, _ in chunk]
            smalls = _small_fills(model_at(model, unit), views, texture or model is None,
                                  graph=graph)
            for (window, members, _), small in zip(chunk, smalls):
                for cell in _cells(regions, members, BLEND_CELL):
                    _blend(pixels, regions, wide, cell, window, small, texture)
                if tally is not None:
                    tally.add(regions.area[members].sum())
    if detail_strength:
        # then the painting's own detail, on fewer and larger crops (its cost is per crop),
        # every cell's found on the smooth fill before any is added (brushwork reads the fill
        # of the holes near it, so the result needs no order)
        found = []
        for cell in _cells(regions, ids, DETAIL_CELL):
            found.append(_find_detail(pixels, regions, wide, cell, detail, detail_margin))
            if tally is not None:
                tally.add(regions.area[cell].sum())
        for crop, where, values in found:
            _add_detail(pixels, crop, where, detail_strength * values)


BLEND_CELL = 128  # px: a window's regions are blended in on crops around those of each cell
DETAIL_CELL = 1024  # px: and take their detail on crops around those of each larger cell


def _cells(regions, members, side):
    """members grouped by the side-px cell their top-left corner lies in (fixed cells of the
    painting, whatever the tiles): a crop around each group, so memory stays that of a few
    cells however large the window."""
    x, y = regions.boxes[members, 0], regions.boxes[members, 1]
    keys = (y // side) * (regions.holes.shape[1] // side + 1) + x // side
    order = np.argsort(keys, kind="stable")
    members, keys = members[order], keys[order]
    return np.split(members, np.flatnonzero(np.diff(keys)) + 1)


def _blend(pixels, regions, wide, members, window, small, texture):
    """Take the regions members' pixels from the window's small fill, enlarged and blended in
    seamlessly, with PatchMatch's grain (texture)."""
    x, y, w, h = regions.boxes[members].T
    box = (x.min(), y.min(), (x + w).max(), (y + h).max())
    # a ring of paint around the holes pins the blend at their edges; PatchMatch needs more
    crop = regions.crop(box, source_margin(box) if texture else BLEND_MARGIN)
    # every wide hole is unknown here, filled or not: the result needs no order
    holes = wide[regions.labels[crop]].astype(np.uint8)
    painted = _rgb(pixels[crop])
    enlarged = _enlarged(small, window, crop)
    # Seamless edges: spread the known pixels' difference from the enlargement inward.
    filled = enlarged + pyramid_fill(painted - enlarged, holes)
    if texture:
        patch = patchmatch_fill(painted, holes)
        # the mean of model, Telea (both in `filled`) and PatchMatch, with PatchMatch's grain
        filled = textured((2.0 * filled + patch) / 3.0, patch)
    _write(pixels, crop, regions.own(crop, members), np.clip(filled, 0.0, 1.0))


def _find_detail(pixels, regions, wide, members, detail, margin):
    """(crop, where, values): the painting's own detail for the filled regions members, found
    by detail (classical.brushwork, guided by the smooth fill there, or classical.grain) on a
    crop of margin px around them, copied from the known paint there (every wide hole counts as
    unknown); where: the (rows, columns) in the crop of members' pixels, values theirs (N, 3)."""
    x, y, w, h = regions.boxes[members].T
    crop = regions.crop((x.min(), y.min(), (x + w).max(), (y + h).max()), margin)
    own = regions.own(crop, members)
    values = detail(_rgb(pixels[crop]), wide[regions.labels[crop]].astype(np.uint8),
                    origin=(crop[0].start, crop[1].start), wanted=own, sparse=True)
    rows, columns = np.nonzero(own)  # row order, as values
    return crop, (rows.astype(np.int32), columns.astype(np.int32)), values


def _add_detail(pixels, crop, where, found):
    """Add found (N, 3) to the filled pixels of the crop at where (rows, columns)."""
    filled = pixels[crop][where]  # (N, 1 or 3) samples of the filled holes
    values = _rgb(filled[:, None])[:, 0] + found
    if pixels.shape[2] == 1:
        values = values.mean(axis=1, keepdims=True)
    pixels[crop][where] = from_float(np.clip(values, 0.0, 1.0), pixels.dtype)


def fill(pixels, mask, method="auto", model=None, radius=3, thin_radius=6.0, progress=None):
    """Fill pixels (H, W, C: 1 gray or 3 RGB; uint8, uint16 or float in [0, 1]) in place where
    mask (H, W) is nonzero. method: a name of filling/registry.py, or "model" for the model
    alone (thin-wide methods use the model for wide regions when given, else the pyramid fill);
    radius is the neighbourhood of the methods that take one; progress(share done), if given,
    is called as the work goes (per group of losses). Pixels outside the mask are not
    written."""
    entry = registry.get(method)
    regions = Regions((np.asarray(mask) > 0).astype(np.uint8))
    if regions.count == 0:
        return pixels
    total = regions.area[1:].sum()
    if entry.strategy == "model":
        _fill_wide(pixels, regions, None, model, tally=_Tally(progress, total))
    elif entry.classical:
        _fill_classical(pixels, regions, None, method, radius, _Tally(progress, total))
    else:
        wide = regions.inscribed_radius() > thin_radius
        detail_stage = regions.area[1:][wide[1:]].sum() if entry.detail_strength else 0
        tally = _Tally(progress, total + detail_stage)
        if (~wide[1:]).any():
            _fill_classical(pixels, regions, ~wide, "specks", None, tally)
        if wide[1:].any():
            # The thin regions are filled by now, so the wide fill sees them as paint.
            _fill_wide(pixels, regions, wide, model if entry.uses_model else None,
                       texture=entry.texture, detail_strength=entry.detail_strength, tally=tally,
                       detail=entry.detail, detail_margin=entry.detail_margin)
    if progress is not None:
        progress(1.0)
    return pixels


def restore_image(image, mask, method="auto", model=None, radius=3, thin_radius=6.0):
    """A float32 RGB image (H, W, 3) in [0, 1] with its holes filled; known pixels exact."""
    return fill(np.array(image, np.float32), mask, method, model, radius, thin_radius)


def region_sizes(mask):
    """Each missing pixel's region's inscribed radius (0 where known)."""
    regions = Regions((np.asarray(mask) > 0.5).astype(np.uint8))
    return regions.inscribed_radius()[regions.labels]
