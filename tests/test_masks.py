"""Artificial damage: each mask kind's shape, values, covered fraction and position."""
import numpy as np
import pytest
from scipy import ndimage

from utils.masks import Blobs, Centre, Holes, Mixed, composite, damage, fixed_masks, mask_generator

SIZE = (256, 384)


def _rng(seed):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("kind", ["holes", "centre", "blobs", "mixed", "strokes", "boxes", "wide"])
def test_every_kind_is_binary_float_of_the_image_shape(kind):
    for shape in [SIZE, (64, 96)]:
        mask = mask_generator(kind)(shape, _rng(1))
        assert mask.shape == shape and mask.dtype == np.float32
        assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() > 0


def test_holes_are_hundreds_of_tiny_squares():
    for seed in range(20):
        mask = Holes()(SIZE, _rng(seed))
        labels, count = ndimage.label(mask)
        assert 300 <= count <= 500  # 500 squares, a few of which touch
        squares = []  # components that are a filled square: squares that touch nothing else
        for index, box in enumerate(ndimage.find_objects(labels), start=1):
            height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
            if height == width and (labels[box] == index).all():
                squares.append(height)
        assert set(squares) == {1, 2, 3, 5}
        assert 0.03 < mask.mean() < 0.055


def test_centre_is_a_quarter_of_each_side():
    mask = Centre()(SIZE)
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (96, 160, 144, 240)
    assert mask.mean() == pytest.approx(1 / 16)
    small = Centre()((64, 96))
    rows, cols = np.nonzero(small)
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (24, 40, 36, 60)


@pytest.mark.parametrize("shape", [SIZE, (64, 96), (32, 32)])
def test_blobs_are_a_few_patches_covering_10_to_15_percent(shape):
    for seed in range(40):
        mask = Blobs()(shape, _rng(seed))
        assert 0.10 <= mask.mean() <= 0.15
        _, count = ndimage.label(mask)
        assert 1 <= count <= 8  # 3 to 8 patches, some of which may merge


def test_mixed_draws_every_kind():
    kinds = set()
    for seed in range(60):
        mask = Mixed()(SIZE, _rng(seed))
        if np.array_equal(mask, Centre()(SIZE)):
            kinds.add("centre")
        elif mask.mean() >= 0.10:
            kinds.add("blobs")
        else:
            kinds.add("holes")
    assert kinds == {"holes", "centre", "blobs"}


def test_masks_are_reproducible_for_a_seed():
    for kind in ["holes", "blobs", "mixed"]:
        a, b = fixed_masks(kind, 3, (64, 96), seed=5), fixed_masks(kind, 3, (64, 96), seed=5)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, fixed_masks(kind, 3, (64, 96), seed=6))
        assert not np.array_equal(a[0], a[1])  # each image gets its own mask


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown mask kind"):
        mask_generator("square")


def test_damage_paints_white_and_composite_keeps_known_pixels():
    rng = _rng(0)
    image = rng.random((2, 8, 8, 3)).astype(np.float32)
    mask = (rng.random((2, 8, 8)) > 0.5).astype(np.float32)
    damaged = damage(image, mask)
    hole = mask > 0.5
    assert np.all(damaged[hole] == 1.0) and np.array_equal(damaged[~hole], image[~hole])
    prediction = rng.random((2, 8, 8, 3)).astype(np.float32)
    merged = composite(prediction, image, mask)
    assert np.array_equal(merged[~hole], image[~hole])
    assert np.array_equal(merged[hole], prediction[hole])
