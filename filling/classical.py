"""The classical fills of one image: OpenCV (Telea, Navier-Stokes), OpenCV-contrib's
frequency-selective reconstruction, PatchMatch, scikit-image's biharmonic fill and the pyramid
fill. Each takes a float RGB image in [0, 1] and a mask with 1 = missing and returns the filled
image; filling/registry.py lists them, and filling.fill.classical keeps the known pixels exact."""
import numpy as np

from utils.images import to_uint8

PATCH_SIZE = 5  # PatchMatch's patch radius: 11 x 11 patches follow a painting's brushwork
TEXTURE_SIGMA = 1.5  # pixels: finer than this a textured fill takes from PatchMatch


def opencv_inpaint(pixels, holes, method, radius=3):
    """OpenCV's Telea or Navier-Stokes fill of pixels (H, W, C) of 8- or 16-bit samples, in
    their own type. OpenCV fills colour only in 8 bits, so 16-bit samples are filled channel by
    channel as float32 (its float fill expects values of that size: in [0, 1] Telea returns
    noise), keeping the finer steps."""
    import cv2
    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    holes = (np.asarray(holes) > 0.5).astype(np.uint8)
    if pixels.dtype == np.uint8:
        return cv2.inpaint(np.ascontiguousarray(pixels), holes, radius, flag).reshape(
            pixels.shape)
    channels = [cv2.inpaint(pixels[..., c].astype(np.float32), holes, radius, flag)
                for c in range(pixels.shape[2])]
    return np.clip(np.rint(np.stack(channels, axis=-1)), 0, 65535).astype(pixels.dtype)


def opencv_fill(method):
    """Telea's or Navier-Stokes' fill of a float RGB image (in 8 bits)."""
    def fill(image, mask, radius=3):
        return opencv_inpaint(to_uint8(image), mask, method, radius).astype(np.float32) / 255.0
    return fill


def opencv_inpaint_as(method):
    """Telea's or Navier-Stokes' fill of 8- or 16-bit samples in their own type."""
    def fill(pixels, holes, radius=3):
        return opencv_inpaint(pixels, holes, method, radius)
    return fill


NEARBY = 15  # px: a biharmonic fill is clipped to the range of the known paint this close


def biharmonic_fill(image, mask):
    """scikit-image's biharmonic fill, clipped to the range of the known paint near each hole
    pixel (a NEARBY-px square). scikit-image clips to the range of the whole image's known
    values, which would make a region's fill depend on how far the crop around it reaches:
    three rows of known black with one white pixel, out of every hole's reach, set that range
    to [0, 1], and the local clip does its work (29.35 dB against scikit-image's 29.39 on 24
    training paintings' tiny holes; its own range, 28.83)."""
    import cv2
    from skimage.restoration import inpaint_biharmonic
    image = np.asarray(image, np.float32)
    holes = np.asarray(mask) > 0.5
    rows = np.zeros((3,) + image.shape[1:], np.float32)
    rows[-1, 0] = 1.0
    padded = np.concatenate([image, rows])
    padded_holes = np.concatenate([holes, np.zeros(rows.shape[:2], bool)])
    filled = inpaint_biharmonic(padded, padded_holes, channel_axis=-1)[:-3].astype(np.float32)
    kernel = np.ones((NEARBY, NEARBY), np.uint8)
    high = cv2.dilate(np.where(holes[..., None], -1.0, image).astype(np.float32), kernel)
    low = cv2.erode(np.where(holes[..., None], 2.0, image).astype(np.float32), kernel)
    high, low = high.reshape(image.shape), low.reshape(image.shape)
    clipped = np.clip(filled, np.minimum(low, high), np.maximum(low, high))
    return np.where(holes[..., None], clipped, filled)


SPECK_BIHARMONIC = 0.7  # biharmonic's share of the speck fill (chosen on 24 training paintings)


def speck_fill(image, mask):
    """Tiny specks: 0.7 of scikit-image's biharmonic fill and 0.3 of Navier-Stokes' with a
    radius of 1 px. Their errors differ, and the blend beats either alone on tiny holes
    (docs/filling.md), at a fraction of FSR's time. The biharmonic fill starts from the
    Navier-Stokes one: scikit-image solves each region on its own and reads the pixels of a
    neighbouring hole within 2 px as paint, which must not be the hole's white."""
    ns = opencv_fill("ns")(image, mask, radius=1)
    # the clip reads the original's known paint (the filled holes are not paint)
    solved = biharmonic_fill(np.where(np.asarray(mask)[..., None] > 0.5, ns, image), mask)
    return SPECK_BIHARMONIC * solved + (1.0 - SPECK_BIHARMONIC) * ns


def fsr_fill(image, mask):
    """OpenCV-contrib's frequency-selective reconstruction (the fast variant) of a float RGB image.
    It models each block around a hole as a sparse sum of Fourier basis functions fitted to the
    known pixels; it works in 8 bits only (16-bit and float samples come out as noise), and its
    mask marks the *known* pixels, the opposite of everything else here."""
    import cv2
    pixels = to_uint8(image)
    known = (np.asarray(mask) <= 0.5).astype(np.uint8)
    filled = np.zeros_like(pixels)
    cv2.xphoto.inpaint(pixels, known, filled, cv2.xphoto.INPAINT_FSR_FAST)
    return filled.astype(np.float32) / 255.0


def patchmatch_fill(image, mask, patch_size=PATCH_SIZE, seed=0):
    """PatchMatch (Barnes et al. 2009, the PyPatchMatch package): each hole pixel is copied from
    the known patch that best matches its surroundings, so the fill has the painting's own texture.
    8-bit RGB only; the library's random search is seeded here, so equal inputs fill equally."""
    from patchmatch import patch_match
    holes = (np.asarray(mask) > 0.5).astype(np.uint8)
    if holes.all():
        raise ValueError("PatchMatch needs some known pixels to copy from")
    patch_match.set_random_seed(seed)
    filled = patch_match.inpaint(to_uint8(image), holes, patch_size=patch_size)
    return filled.astype(np.float32) / 255.0


def textured(smooth, patch, sigma=TEXTURE_SIGMA):
    """The low frequencies of a smooth fill with the high frequencies (finer than sigma pixels) of
    a PatchMatch fill of the same holes: the smooth fill's colour and structure, which score best,
    with the painting's own grain, which a smooth fill averages away."""
    import cv2

    def low(values):
        return cv2.GaussianBlur(values, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return low(smooth) + patch - low(patch)


def _halve(values):
    """2 x 2 average pooling of (H, W, C) with 'same' padding, where edge cells average only the
    pixels they hold (TensorFlow's average_pool): replicating the last row or column makes the
    plain 2 x 2 mean exactly that."""
    import cv2
    height, width = values.shape[:2]
    if height % 2 or width % 2:
        values = cv2.copyMakeBorder(values, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    half = cv2.resize(values, ((width + 1) // 2, (height + 1) // 2),
                      interpolation=cv2.INTER_AREA)
    return half.reshape(half.shape[:2] + (-1,))


def pyramid_fill(image, mask, sharpness=16.0):
    """The push-pull pyramid fill of one image (H, W, C) of any size, in NumPy: the same
    computation as the PyramidFill layer (models/layers.py, which documents it) that the
    learned models start from, without TensorFlow's overhead for one large image."""
    import cv2
    image = np.asarray(image, np.float32)
    known = 1.0 - (np.asarray(mask) > 0.5).astype(np.float32)[..., None]
    colour, weight = image * known, known
    levels = []
    for _ in range(max(1, int(np.ceil(np.log2(max(image.shape[:2])))))):
        levels.append((colour, weight))
        colour, weight = _halve(colour), _halve(weight)
    filled = colour / np.maximum(weight, 1e-6)
    for colour, weight in reversed(levels):
        coarse = cv2.resize(filled, (colour.shape[1], colour.shape[0]),
                            interpolation=cv2.INTER_LINEAR)
        coarse = coarse.reshape(colour.shape[:2] + (-1,))
        alpha = np.minimum(weight * sharpness, 1.0)
        filled = alpha * colour / np.maximum(weight, 1e-6) + (1.0 - alpha) * coarse
    return filled


def source_margin(box):
    """Context around a region (x0, y0, x1, y1) for PatchMatch to copy from: its own size, within
    32-256 px."""
    return int(np.clip(max(box[2] - box[0], box[3] - box[1]), 32, 256))


GRAIN_BLOCK = 16  # pixels: the side of the blocks of grain copied into a hole
GRAIN_SIGMA = 0.8  # pixels: the grain is the detail finer than this (docs/filling.md)
# a block's grain comes from one of this many nearest blocks of paint: with 8, the middle of a
# large loss repeated the same few blocks in a visible grid
GRAIN_CHOICES = 32
# brushwork (issue 30): the detail finer than BRUSH_SIGMA of blocks of BRUSH_BLOCK px, each
# chosen among the BRUSH_CHOICES blocks of paint whose coarser paint (BRUSH_CELL-px cells) best
# matches the fill's there, from the BRUSH_NEAR blocks of paint nearest (docs/filling.md)
BRUSH_BLOCK = 32
BRUSH_SIGMA = 3.0
BRUSH_CELL = 8
BRUSH_CHOICES = 8
BRUSH_NEAR = 1024
BRUSH_TILE = 256  # px: the targets of one tile of the painting share their candidates


def _inputs(image, mask, wanted):
    """grain's and brushwork's inputs as they work on them: (float32 image, holes and wanted
    pixels as uint8 masks; wanted defaults to the holes)."""
    holes = (np.asarray(mask) > 0.5).astype(np.uint8)
    wanted = holes if wanted is None else (np.asarray(wanted) > 0).astype(np.uint8)
    return np.asarray(image, np.float32), holes, wanted


def _nothing(image, wanted, sparse):
    """No detail for the wanted pixels, in the form grain and brushwork return."""
    if sparse:
        return np.zeros((int(np.count_nonzero(wanted)), image.shape[2]), np.float32)
    return np.zeros_like(image)


def _block_grid(holes, wanted, reach, block, origin):
    """The blocks grain and brushwork copy between: (sources, targets, ty, tx), or None where
    there is nothing to copy (no wanted pixel, a crop smaller than a block, no block of paint
    clear of the holes). sources: the top-left corners (y, x) of the crop's blocks on a
    half-block grid clear of every hole and of `reach` px around them; targets: the corners of
    the painting's half-block grid (ty, tx its rows and columns in the crop, from one step
    before it, so every hole pixel is under two blocks per axis) whose block touches a wanted
    pixel."""
    import cv2
    height, width = holes.shape
    if not wanted.any() or min(height, width) < block:
        return None
    tainted = cv2.dilate(holes, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    count = cv2.integral(tainted)
    step = block // 2
    ys = np.arange(0, height - block + 1, step)
    xs = np.arange(0, width - block + 1, step)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    dirty = (count[gy + block, gx + block] - count[gy, gx + block] - count[gy + block, gx]
             + count[gy, gx])
    sources = np.stack([gy[dirty == 0], gx[dirty == 0]], axis=1)
    if len(sources) == 0:
        return None
    hole_count = cv2.integral(wanted)
    ty = np.arange(-step - origin[0] % step, height, step)
    tx = np.arange(-step - origin[1] % step, width, step)
    gy, gx = np.meshgrid(ty, tx, indexing="ij")
    y0, x0 = np.clip(gy, 0, height), np.clip(gx, 0, width)
    y1, x1 = np.clip(gy + block, 0, height), np.clip(gx + block, 0, width)
    touched = (hole_count[y1, x1] - hole_count[y0, x1] - hole_count[y1, x0]
               + hole_count[y0, x0]) > 0
    return sources, np.stack([gy[touched], gx[touched]], axis=1), ty, tx


def _hashed(targets, origin, count):
    """One of count for each target block, fixed by its place in the painting."""
    where = (targets + np.array(origin)).astype(np.int64)
    return ((where[:, 0] * 73856093) ^ (where[:, 1] * 19349663)) % 2654435761 % count


def _paste(high, wanted, sources, targets, picks, ty, tx, block, sparse):
    """The blocks of high at sources[picks] laid on the targets with a raised-cosine overlap,
    normalised to keep their variance: (H, W, C) for the wanted pixels (0 elsewhere), or with
    sparse only their values (N, C) in row order. Every block over a wanted pixel is a target
    (it touches it), so the weights there are those of the whole grid: per axis, the squared
    window of the two blocks over the pixel, a function of its place in the grid's step."""
    height, width, channels = high.shape
    step = block // 2
    profile = (np.sin(np.pi * (np.arange(block) + 0.5) / block) ** 2).astype(np.float32)
    window = np.outer(profile, profile)
    total = np.zeros((height + 3 * block, width + 3 * block, channels), np.float32)
    # every block of known paint at every pixel: (rows, columns, channels, block, block), a view
    patches = np.lib.stride_tricks.sliding_window_view(high, (block, block), axis=(0, 1))
    shade = window[:, :, None]
    # blocks two steps apart do not overlap: four phases, each a regular grid of blocks that is
    # one gather and one scatter of whole blocks
    rows_in, cols_in = (targets[:, 0] - ty[0]) // step, (targets[:, 1] - tx[0]) // step
    for phase_y in (0, 1):
        for phase_x in (0, 1):
            chosen = (rows_in % 2 == phase_y) & (cols_in % 2 == phase_x)
            if not chosen.any():
                continue
            top = ty[0] + phase_y * step + block  # the first block's row in total
            left = tx[0] + phase_x * step + block
            count_y = (total.shape[0] - top) // block
            count_x = (total.shape[1] - left) // block
            grid = total[top:top + count_y * block, left:left + count_x * block]
            grid = grid.reshape(count_y, block, count_x, block, channels)
            by, bx = rows_in[chosen] // 2, cols_in[chosen] // 2
            source = sources[picks[chosen]]
            values = patches[source[:, 0], source[:, 1]].transpose(0, 2, 3, 1)
            grid[by, :, bx] += shade * values
    rows, cols = np.nonzero(wanted > 0)
    values = total[block + rows, block + cols]
    squared = profile ** 2
    per_step = squared[:step] + squared[step:]  # the two blocks over a place in the step
    spread = per_step[(rows - ty[0]) % step] * per_step[(cols - tx[0]) % step]
    values = values / np.sqrt(np.maximum(spread, 1e-6))[:, None]
    if sparse:
        return values
    out = np.zeros_like(high)
    out[rows, cols] = values
    return out


def _high(image, sigma):
    """(detail finer than sigma px, the rest) of a float image."""
    import cv2
    low = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    low = low.reshape(image.shape)
    return image - low, low


def grain(image, mask, sigma=GRAIN_SIGMA, block=GRAIN_BLOCK, origin=(0, 0), wanted=None,
          sparse=False):
    """The painting's own grain for its holes: the high frequencies (finer than sigma pixels) of
    known paint near each hole, copied block by block (blocks of `block` px on a half-block
    grid of the painting, each from one of the GRAIN_CHOICES nearest fully known blocks, which
    one fixed by the block's place in the painting) and overlapped with a raised-cosine window
    normalised to keep the grain's variance. origin: where image lies in the painting (its
    top-left pixel): the blocks laid in lie on the painting's grid, but the blocks they come
    from are the crop's, so the grain depends on the crop (filling/fill.py fixes the crops by
    the mask alone); wanted: the hole pixels whose grain is needed (default all). Returns the
    grain (H, W, C) for those pixels, 0 elsewhere, or with sparse only their values (N, C) in
    row order; image is float (H, W, C)."""
    from scipy.spatial import cKDTree
    image, holes, wanted = _inputs(image, mask, wanted)
    # a source block must be clear of holes and of the blur's reach into them
    grid = _block_grid(holes, wanted, int(np.ceil(3 * sigma)), block, origin)
    if grid is None:
        return _nothing(image, wanted, sparse)
    sources, targets, ty, tx = grid
    high, _ = _high(image, sigma)
    k = min(GRAIN_CHOICES, len(sources))
    _, nearest = cKDTree(sources).query(targets, k=k)
    nearest = nearest.reshape(len(targets), k)
    # which of the k: a hash of the block's place in the painting
    picks = nearest[np.arange(len(targets)), _hashed(targets, origin, k)]
    return _paste(high, wanted, sources, targets, picks, ty, tx, block, sparse)


def _cell_features(low, corner_sets, block, cell):
    """For each array of block corners (top-left (y, x) in low, at most a block outside it; the
    corners of one array congruent modulo cell), each block's coarse paint: the mean of low
    (reflected at its edges) over each cell x cell px of the block, (N, (block // cell) ** 2 *
    C), read from low shrunk by cell (area) on that array's grid of cells."""
    import cv2
    padded = cv2.copyMakeBorder(low, block, block, block, block, cv2.BORDER_REFLECT)
    padded = padded.reshape(padded.shape[:2] + (-1,))
    steps = np.arange(block // cell)
    features = []
    for corners in corner_sets:
        if len(corners) == 0:
            features.append(np.zeros((0, len(steps) ** 2 * padded.shape[2]), np.float32))
            continue
        oy, ox = (corners[0] + block) % cell
        rows, cols = (padded.shape[0] - oy) // cell, (padded.shape[1] - ox) // cell
        means = cv2.resize(padded[oy:oy + rows * cell, ox:ox + cols * cell], (cols, rows),
                           interpolation=cv2.INTER_AREA).reshape(rows, cols, -1)
        y = (corners[:, 0] + block - oy) // cell
        x = (corners[:, 1] + block - ox) // cell
        cells = means[y[:, None, None] + steps[None, :, None], x[:, None, None] + steps[None, None]]
        features.append(cells.reshape(len(corners), -1))
    return features


def brushwork(image, mask, sigma=BRUSH_SIGMA, block=BRUSH_BLOCK, origin=(0, 0), wanted=None,
              sparse=False):
    """The painting's own brushwork for holes already filled smoothly (the coarse prediction):
    what to add to the fill so that its detail finer than sigma px is that of known paint whose
    coarser paint matches the fill's there (issue 30's guided synthesis, in one pass of
    blocks). Each block of `block` px on a half-block grid of the painting takes the detail of
    one of the BRUSH_CHOICES fully known blocks (among the BRUSH_NEAR nearest the centre of its
    BRUSH_TILE-px tile of the painting) whose means over BRUSH_CELL-px cells best match the
    fill's (least squares), which one fixed by the block's place in the painting; the blocks
    overlap with a raised-cosine window normalised to keep the detail's variance, and replace
    the fill's own detail finer than sigma. Where no block of paint is clear of the holes (a
    small painting), blocks of half the size (and half sigma and cell), then a quarter.
    origin, wanted, sparse: as grain's. image: float (H, W, C), its holes holding the smooth
    fill."""
    from scipy.spatial import cKDTree
    image, holes, wanted = _inputs(image, mask, wanted)
    # where no block of paint that size is clear of the holes (a small painting), half of it,
    # down to a quarter
    cell = BRUSH_CELL
    for _ in range(3):
        grid = _block_grid(holes, wanted, int(np.ceil(3 * sigma)), block, origin)
        if grid is not None:
            break
        block, sigma, cell = block // 2, sigma / 2, max(1, cell // 2)
    if grid is None:
        return _nothing(image, wanted, sparse)
    sources, targets, ty, tx = grid
    high, low = _high(image, sigma)
    source_features, target_features = _cell_features(low, (sources, targets), block, cell)
    choices = min(BRUSH_CHOICES, len(sources))
    which = _hashed(targets, origin, choices)
    picks = np.empty(len(targets), np.int64)
    # the targets by BRUSH_TILE-px tiles of the painting; each tile's candidates: the
    # BRUSH_NEAR blocks of paint nearest its centre (all of them, if no more)
    where = targets + np.array(origin)
    tile = where // BRUSH_TILE
    keys = tile[:, 0] * (1 << 20) + tile[:, 1]
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.diff(keys[order])) + 1
    tree = cKDTree(sources) if len(sources) > BRUSH_NEAR else None
    source_norms = np.einsum("ij,ij->i", source_features, source_features)
    for members in np.split(order, bounds):
        if tree is None:
            candidates = np.arange(len(sources))
        else:
            centre = (tile[members[0]] + 0.5) * BRUSH_TILE - np.array(origin)
            candidates = np.sort(tree.query(centre, k=BRUSH_NEAR)[1])
        wanted_features = target_features[members]
        distance = (source_norms[candidates][None]
                    - 2.0 * wanted_features @ source_features[candidates].T)
        # the best few, in order (ties to the first block of paint in the crop's rows)
        best = np.argpartition(distance, choices - 1, axis=1)[:, :choices]
        rows = np.arange(len(members))[:, None]
        ranked = np.lexsort((best, distance[rows, best]), axis=1)
        chosen = best[rows[:, 0], ranked[rows[:, 0], which[members]]]
        picks[members] = candidates[chosen]
    detail = _paste(high, wanted, sources, targets, picks, ty, tx, block, sparse=True)
    chosen = wanted > 0
    added = detail - high[chosen]
    if sparse:
        return added
    out = np.zeros_like(image)
    out[chosen] = added
    return out
