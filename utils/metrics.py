"""Quality of a filled hole, measured on the missing pixels only (known pixels are copied, so
counting them would only flatter every method). A measure of a hole that is not there (a mask
with no hole pixel, a painting too small for SSIM's window, a loss too small to compare textures)
is None: undefined, never a number that looks like a result (NaN, or a perfect 100 dB)."""
import functools

import numpy as np


def _hole(mask):
    """The hole's pixels (a boolean map), or None when the mask has none."""
    hole = np.asarray(mask) > 0.5
    return hole if hole.any() else None


def hole_mse(result, original, mask):
    hole = _hole(mask)
    return None if hole is None else float(np.mean((result[hole] - original[hole]) ** 2))


def hole_psnr(result, original, mask, max_db=100.0):
    """Peak signal-to-noise ratio over the hole pixels, in dB (values in [0, 1]); a result
    holding NaN gives NaN, never max_db."""
    mse = hole_mse(result, original, mask)
    if mse is None or mse == 0:
        return None if mse is None else max_db
    return float(np.minimum(max_db, 10.0 * np.log10(1.0 / mse)))  # NaN stays NaN


def hole_l1(result, original, mask):
    """Mean absolute error over the hole pixels (all channels)."""
    hole = _hole(mask)
    return None if hole is None else float(np.mean(np.abs(result[hole] - original[hole])))


def hole_ssim(result, original, mask, window=7):
    """The SSIM map (window x window, per channel; smaller, odd, for a painting narrower than
    that, and None under 3 pixels) averaged over the hole pixels."""
    from skimage.metrics import structural_similarity
    hole = _hole(mask)
    window = min(window, min(original.shape[:2]) - (min(original.shape[:2]) + 1) % 2)
    if hole is None or window < 3:
        return None
    _, ssim_map = structural_similarity(original, result, channel_axis=-1, data_range=1.0,
                                        full=True, win_size=window)
    return float(ssim_map[hole].mean())


def _laplacian(image):
    import cv2
    gray = np.asarray(image, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return cv2.Laplacian(gray, cv2.CV_32F, ksize=1)


def hole_sharpness(result, original, mask):
    """How much fine detail the filled hole has, relative to the original's in the same place:
    the variance of the Laplacian over the hole pixels, result / original. 1 = as detailed as the
    original; an MSE-trained fill, which averages the possibilities, gives well under 1. No
    longer a target (issue 30: grain laid on a blur scores as well as structure; evaluate.py
    reports texture_distance); tests/test_restore.py and docs/make_fill_example.py use it."""
    hole = _hole(mask)
    if hole is None:
        return None
    original_detail = float(_laplacian(original)[hole].var())
    return float(_laplacian(result)[hole].var()) / max(original_detail, 1e-8)


TEXTURE_PATCHES = 4000  # patch centres drawn per image and scale
TEXTURE_DIRECTIONS = 64
TEXTURE_MIN_PATCHES = 16  # fewer centres at either scale: too few patches to compare textures
_LAB_SCALE = np.array([100.0, 128.0, 128.0])  # L in [0, 100], a and b in about [-128, 128]
_RADIUS = 3  # patches are 7 x 7
_XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423],  # sRGB (linear) to CIE XYZ
                          [0.212671, 0.715160, 0.072169],
                          [0.019334, 0.119193, 0.950227]])
_D65 = np.array([0.95047, 1.0, 1.08883])  # the white point, 2-degree observer


def _unit_rgb(values):
    """Pixels as float64 RGB in [0, 1]: integers over their type's maximum (8-bit over 255,
    16-bit over 65535), floats clipped to [0, 1] (a fill a hair outside the range counts as its
    nearest colour; NaN stays NaN); grey repeated to three channels, alpha dropped."""
    values = np.asarray(values)
    if values.dtype.kind in "ui":
        values = values / np.iinfo(values.dtype).max
    values = np.clip(values.astype(np.float64), 0.0, 1.0)
    return np.repeat(values, 3, axis=-1) if values.shape[-1] == 1 else values[..., :3]


def _lab(rgb):
    """CIE Lab (D65) of sRGB values in [0, 1], (n, 3): skimage's rgb2lab written out element by
    element, since its 3 x 3 matrix product through a threaded BLAS runs several times slower
    on a busy machine."""
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = sum(linear[:, [channel]] * (_XYZ_FROM_RGB[:, channel] / _D65) for channel in range(3))
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack([116.0 * f[:, 1] - 16.0, 500.0 * (f[:, 0] - f[:, 1]),
                     200.0 * (f[:, 1] - f[:, 2])], axis=-1)


def _centres(loss, seed):
    """(rows, cols) of min(TEXTURE_PATCHES, count) of the loss pixels at least 3 px from the
    edge, drawn uniformly without replacement with default_rng(seed) (as ranks in row-major
    order: the same draw as indexing np.flatnonzero, without a list of every loss pixel);
    None for fewer than TEXTURE_MIN_PATCHES."""
    inner = loss[_RADIUS:-_RADIUS, _RADIUS:-_RADIUS]
    per_row = np.count_nonzero(inner, axis=1)
    count = int(per_row.sum())
    if count < TEXTURE_MIN_PATCHES:
        return None
    ranks = np.sort(np.random.default_rng(seed).choice(count, min(TEXTURE_PATCHES, count),
                                                       replace=False))
    ends = np.cumsum(per_row)
    rows = np.searchsorted(ends, ranks, side="right")
    cols = np.empty_like(ranks)
    firsts = np.flatnonzero(np.diff(rows, prepend=-1))
    for first, last in zip(firsts, [*firsts[1:], len(rows)]):
        row = rows[first]
        cols[first:last] = np.flatnonzero(inner[row])[
            ranks[first:last] - (ends[row] - per_row[row])]
    return rows + _RADIUS, cols + _RADIUS


def _patches(image, rows, cols, width, halved):
    """The 7 x 7 patches centred on (rows, cols) of image, or (halved) of image halved to width
    columns, each pixel the mean of its 2 x 2 block (what cv2.resize's INTER_AREA gives at
    exactly half); in Lab over (100, 128, 128), each less its own mean colour: (patches, 147).
    Only these patches' pixels are read and converted, each once."""
    offsets = np.arange(-_RADIUS, _RADIUS + 1)
    where = ((rows[:, None, None] + offsets[None, :, None]) * width +
             cols[:, None, None] + offsets[None, None, :])
    pixels, inverse = np.unique(where, return_inverse=True)
    y, x = np.divmod(pixels, width)
    if halved:
        rgb = sum(_unit_rgb(image[2 * y + dy, 2 * x + dx]) for dy in (0, 1) for dx in (0, 1)) / 4
    else:
        rgb = _unit_rgb(image[y, x])
    lab = (_lab(rgb) / _LAB_SCALE)[inverse.reshape(where.shape)]
    lab -= lab.mean(axis=(1, 2), keepdims=True)  # colour is PSNR's to score: keep texture only
    return lab.reshape(len(rows), -1)


@functools.cache
def _directions():
    """The 64 projection directions (default_rng(0).standard_normal, each of length 1) as the
    columns of a (147, 64) array: contiguous, for a fast product."""
    size = (2 * _RADIUS + 1) ** 2 * 3
    directions = np.random.default_rng(0).standard_normal((TEXTURE_DIRECTIONS, size))
    columns = np.ascontiguousarray((directions / np.linalg.norm(directions, axis=1,
                                                                keepdims=True)).T)
    columns.setflags(write=False)
    return columns


def _sliced_wasserstein(result, original, loss, halved):
    """SW-1 between the result's and the original's loss patches at one scale (see
    texture_distance); None for fewer than TEXTURE_MIN_PATCHES centres."""
    directions = _directions()
    projected = []
    for image, seed in ((result, 0), (original, 1)):
        centres = _centres(loss, seed)
        if centres is None:
            return None
        patches = _patches(image, *centres, loss.shape[1], halved)
        projected.append(np.sort(patches @ directions, axis=0))
    return float(np.mean(np.abs(projected[0] - projected[1])))


def texture_distance(result, original, mask):
    """How far the filled loss's texture is from the original's: 100 x the sliced Wasserstein-1
    distance (the statistic Heitz et al., CVPR 2021, use for textures) between their 7 x 7
    patches, the mean of the painting as is and halved. Lower is better; 0 for the original
    itself (up to sampling noise where the loss has more than 4,000 patch centres). Each patch
    is less its own mean colour, so it scores texture and structure, not colour (PSNR does).

    Defined exactly, so that every figure compares (issue 30): result and original, RGB in
    [0, 1] (integers over their type's maximum: 8-bit over 255, 16-bit over 65535; floats
    clipped to [0, 1]), go to CIE Lab (sRGB, D65, 2-degree observer, as skimage's rgb2lab) over
    (100, 128, 128). The centres are min(4000, count) of the loss pixels (mask > 0.5) at least
    3 px from the painting's edge, drawn uniformly without replacement by
    numpy.random.default_rng(0) for the result and default_rng(1) for the original. Each
    7 x 7 x 3 patch, less its per-channel mean and flattened (rows, columns, channels), is
    projected on 64 directions (default_rng(0).standard_normal((64, 147)), each row normalised
    to length 1); the distance is the mean absolute difference of the sorted projections.
    Halved: the images' even part (an odd last row or column dropped) in 2 x 2 means, as
    cv2.resize with INTER_AREA gives, and the mask's pixels (2y, 2x), as INTER_NEAREST gives.

    None (not measured, as every measure here without a hole) where either scale has fewer than
    TEXTURE_MIN_PATCHES (16) centres: a loss of a handful of pixels, or one along the edge. A
    result holding NaN gives NaN. Memory: the centres are drawn first and only their patches'
    pixels read and converted, so beyond a boolean copy of the mask it holds some 50 MB,
    whatever the painting's size (a 48-MP 16-bit scan with a 24-MP loss: 93 MB at the peak,
    48 of them that copy; 1.5 s on 2 cores)."""
    result, original = np.asarray(result), np.asarray(original)
    if result.shape != original.shape or result.shape[:2] != np.shape(mask)[:2]:
        raise ValueError(f"texture_distance: result {result.shape}, original {original.shape} "
                         f"and mask {np.shape(mask)} differ in size")
    if result.ndim == 2:
        result, original = result[..., None], original[..., None]
    loss = np.asarray(mask) > 0.5
    height, width = loss.shape
    halved = loss[:height - height % 2:2, :width - width % 2:2]
    scales = [_sliced_wasserstein(result, original, loss, False),
              _sliced_wasserstein(result, original, halved, True)]
    return None if None in scales else 100.0 * float(np.mean(scales))
