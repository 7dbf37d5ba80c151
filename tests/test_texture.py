"""The texture distance (utils/metrics.py, issue 30): its exact definition, the known cases it must
rank, and what it does with small losses, other depths and pixels far from the loss."""
import cv2
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from utils.metrics import TEXTURE_MIN_PATCHES, texture_distance


def grain_texture(seed=0, shape=(128, 160), grain=1.5, amplitude=0.08):
    """A stationary painted grain: Gaussian-filtered noise (scale `grain` px, mostly in
    lightness, a little in colour) on a gentle colour gradient."""
    rng = np.random.default_rng(seed)
    height, width = shape
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([0.55 + 0.2 * x, 0.45 + 0.15 * y, 0.3 + 0.1 * x * y], axis=-1)
    noise = cv2.GaussianBlur(rng.standard_normal((height, width, 3)).astype(np.float32),
                             (0, 0), grain)
    noise = 0.8 * noise[..., :1] + 0.2 * noise
    return np.clip(base + noise * amplitude / noise.std(), 0, 1).astype(np.float32)


def wide_loss(shape=(128, 160)):
    """A centred block a little over half the painting's sides: 7,680 patch centres at 128 x
    160, more than the 4,000 drawn, so the original is compared with a sample of itself."""
    mask = np.zeros(shape, np.float32)
    height, width = shape
    mask[height // 2 - 40:height // 2 + 40, width // 2 - 48:width // 2 + 48] = 1
    return mask


def in_the_loss(fill, image, mask):
    return np.where(mask[..., None] > 0, fill, image).astype(np.float32)


def reference_distance(result, original, mask):
    """The issue's definition written the plain way: whole images to Lab, halved with cv2 (the
    even part, INTER_AREA; the mask INTER_NEAREST), every patch built, then the centres picked."""
    from skimage.color import rgb2lab
    directions = np.random.default_rng(0).standard_normal((64, 147))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)

    def sorted_projections(image, loss, seed):
        lab = rgb2lab(image.astype(np.float64)) / np.array([100.0, 128.0, 128.0])
        patches = sliding_window_view(lab, (7, 7), axis=(0, 1))  # (h - 6, w - 6, 3, 7, 7)
        centres = np.flatnonzero(loss[3:-3, 3:-3])
        picks = np.random.default_rng(seed).choice(centres.size, min(4000, centres.size),
                                                   replace=False)
        rows, cols = np.unravel_index(centres[picks], (loss.shape[0] - 6, loss.shape[1] - 6))
        chosen = patches[rows, cols].transpose(0, 2, 3, 1)  # (k, 7, 7, 3)
        chosen = chosen - chosen.mean(axis=(1, 2), keepdims=True)
        return np.sort(chosen.reshape(len(rows), -1) @ directions.T, axis=0)

    def distance(result, original, loss):
        return np.mean(np.abs(sorted_projections(result, loss, 0) -
                              sorted_projections(original, loss, 1)))

    height, width = (mask.shape[0] // 2) * 2, (mask.shape[1] // 2) * 2
    half = [cv2.resize(image[:height, :width], (width // 2, height // 2),
                       interpolation=cv2.INTER_AREA) for image in (result, original)]
    half_mask = cv2.resize(mask[:height, :width], (width // 2, height // 2),
                           interpolation=cv2.INTER_NEAREST)
    return 100 * np.mean([distance(result, original, mask > 0.5),
                          distance(*half, half_mask > 0.5)])


def test_texture_distance_is_exactly_the_issues_definition():
    """Odd sides (the halved scale drops the last row and column), a loss of more centres than
    are drawn at the full scale and fewer at the halved one, and one touching the edge."""
    rng = np.random.default_rng(3)
    original = grain_texture(3, (91, 87))
    result = np.clip(original + rng.normal(0, 0.05, original.shape), 0, 1).astype(np.float32)
    mask = np.zeros((91, 87), np.float32)
    mask[:80, 10:75] = 1
    assert texture_distance(result, original, mask) == pytest.approx(
        reference_distance(result, original, mask), rel=1e-6)


def test_the_known_cases_rank_as_they_must():
    """On a painted grain with a wide loss: the original (another sample of its own patches)
    scores near 0; the original shifted by 3 px (the right texture in the wrong place) far
    better than Telea; Gaussian noise in the loss, and a blur that wipes the grain out
    (sigma 6 px, 4x the grain's), worse than Telea's smooth fill."""
    image, mask = grain_texture(), wide_loss()
    telea = cv2.inpaint((image * 255).round().astype(np.uint8), mask.astype(np.uint8), 3,
                        cv2.INPAINT_TELEA).astype(np.float32) / 255
    noisy = np.clip(image + np.random.default_rng(0).normal(0, 0.1, image.shape), 0, 1)
    scores = {name: texture_distance(in_the_loss(fill, image, mask), image, mask) for name, fill in
              {"original": image, "shift": np.roll(image, (3, 3), axis=(0, 1)), "telea": telea,
               "blur": cv2.GaussianBlur(image, (0, 0), 6), "noise": noisy}.items()}
    assert 0 < scores["original"] < 0.1
    assert scores["original"] < scores["shift"] < 0.2 * scores["telea"]
    assert scores["telea"] < scores["blur"] and scores["telea"] < scores["noise"]


def test_same_inputs_same_number_and_pixels_far_from_the_loss_do_not_count():
    """Deterministic; pixels more than 8 px from every loss pixel (the 7 x 7 neighbourhoods at
    the full scale and the halved one) change nothing, the loss's own rim does."""
    image, mask = grain_texture(1, (64, 80)), np.zeros((64, 80), np.float32)
    mask[20:44, 24:56] = 1
    fill = in_the_loss(cv2.GaussianBlur(image, (0, 0), 2), image, mask)
    value = texture_distance(fill, image, mask)
    assert texture_distance(fill.copy(), image.copy(), mask.copy()) == value
    far = cv2.dilate(mask, np.ones((17, 17), np.uint8)) == 0
    rng = np.random.default_rng(5)
    elsewhere = [np.where(far[..., None], rng.random(image.shape), x).astype(np.float32)
                 for x in (fill, image)]
    assert texture_distance(*elsewhere, mask) == value
    rim = cv2.dilate(mask, np.ones((3, 3), np.uint8)) - mask > 0
    changed = np.where(rim[..., None], rng.random(image.shape), image).astype(np.float32)
    assert texture_distance(in_the_loss(fill, changed, mask), changed, mask) != value


def test_every_depth_gives_the_same_number():
    """8-bit, 16-bit and float pictures of the same pixels score alike; grey counts as three
    equal channels; floats a hair outside [0, 1] count as their nearest colour."""
    image, mask = grain_texture(2, (48, 64)), np.zeros((48, 64), np.float32)
    mask[10:38, 12:52] = 1
    fill = in_the_loss(cv2.GaussianBlur(image, (0, 0), 2), image, mask)
    eight = [(x * 255).round().astype(np.uint8) for x in (fill, image)]
    value = texture_distance(*[x / 255.0 for x in eight], mask)
    assert texture_distance(*eight, mask) == pytest.approx(value, rel=1e-9)
    assert texture_distance(*[x.astype(np.uint16) * 257 for x in eight], mask) == pytest.approx(
        value, rel=1e-9)
    as_float32 = [x / np.float32(255) for x in eight]
    assert texture_distance(*as_float32, (mask * 255).astype(np.uint8)) == pytest.approx(
        value, rel=1e-6)
    white, whiter = as_float32[0].copy(), as_float32[0].copy()
    white[15:20, 20:30], whiter[15:20, 20:30] = 1.0, 1.2
    assert texture_distance(whiter, as_float32[1], mask) == texture_distance(
        white, as_float32[1], mask) != pytest.approx(value)
    grey = [x.mean(axis=-1) for x in (fill, image)]
    assert texture_distance(*grey, mask) == pytest.approx(
        texture_distance(*[np.repeat(g[..., None], 3, -1) for g in grey], mask), rel=1e-9)


def test_a_loss_too_small_to_compare_is_not_measured():
    """None, never NaN nor a crash: no loss, a handful of pixels, a loss only along the edge
    (no 7 x 7 patch fits), or one with under TEXTURE_MIN_PATCHES centres when halved."""
    image = grain_texture(0, (40, 40))
    fill = image[::-1].copy()
    for rows, cols in ((slice(0, 0), slice(0, 0)), (slice(10, 12), slice(10, 13)),
                       (slice(0, 3), slice(0, 40)), (slice(11, 18), slice(11, 18))):
        mask = np.zeros((40, 40), np.float32)
        mask[rows, cols] = 1
        assert texture_distance(fill, image, mask) is None
    mask = np.zeros((40, 40), np.float32)
    mask[10:18, 10:18] = 1  # 64 centres, 16 when halved: measured
    assert (mask[::2, ::2] > 0).sum() == TEXTURE_MIN_PATCHES
    assert texture_distance(fill, image, mask) > 0
    with pytest.raises(ValueError, match="differ in size"):
        texture_distance(fill[:20], image, mask)
