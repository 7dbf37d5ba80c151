"""Artificial damage: masks of missing paint, and the two rules that use them.

Convention, here and everywhere: a mask is float32 (H, W) with 1 = missing pixel, 0 = known.
A model's input is the image with its missing pixels painted white (`damage`), and a prediction
is merged back by `composite`. Each mask kind is a small class called as `kind(shape, rng)`, and the
same classes make training masks and the fixed evaluation masks (`fixed_masks`).
"""
import cv2
import numpy as np

REFERENCE_AREA = 256 * 384  # the image area at which the hole count below is defined


def damage(image, mask):
    """Paint the missing pixels white: the model input. Works on NumPy arrays and tensors."""
    mask = mask[..., None] if mask.ndim == image.ndim - 1 else mask
    return image * (1.0 - mask) + mask


def composite(prediction, image, mask):
    """Keep every known pixel of image; take the prediction only where mask is 1."""
    mask = mask[..., None] if mask.ndim == image.ndim - 1 else mask
    return mask * prediction + (1.0 - mask) * image


class Holes:
    """Flaked paint: 500 squares of side 1, 2, 3 or 5 px at random positions (at 256 x 384; the
    count scales with the image area)."""

    sides = (1, 2, 3, 5)

    def __init__(self, count=500):
        self.count = count

    def __call__(self, shape, rng):
        height, width = shape
        count = max(1, round(self.count * height * width / REFERENCE_AREA))
        mask = np.zeros(shape, np.float32)
        sides = rng.choice(self.sides, size=count)
        rows = rng.integers(0, height - sides + 1)
        cols = rng.integers(0, width - sides + 1)
        for side, row, col in zip(sides, rows, cols):
            mask[row:row + side, col:col + side] = 1.0
        return mask


class Centre:
    """A block a quarter of the height and width, centred: rows 96:160, cols 144:240 at 256 x 384."""

    def __call__(self, shape, rng=None):
        height, width = shape
        mask = np.zeros(shape, np.float32)
        mask[3 * height // 8:5 * height // 8, 3 * width // 8:5 * width // 8] = 1.0
        return mask


class Blobs:
    """Paint loss: 3 to 8 irregular patches that together cover 10-15% of the image.

    Each patch is a star-shaped polygon whose radius wobbles with a few random harmonics; the
    radii are rescaled until the union covers the drawn target fraction.
    """

    def __init__(self, count=(3, 8), coverage=(0.10, 0.15), harmonics=4, vertices=48):
        self.count, self.coverage = count, coverage
        self.harmonics, self.vertices = harmonics, vertices

    def _draw(self, shape, centres, radii, profiles, scale):
        mask = np.zeros(shape, np.uint8)
        angles = np.linspace(0, 2 * np.pi, self.vertices, endpoint=False)
        for (cy, cx), radius, profile in zip(centres, radii, profiles):
            r = radius * scale * profile
            points = np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], axis=1)
            cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
        return mask

    def __call__(self, shape, rng):
        height, width = shape
        n = int(rng.integers(self.count[0], self.count[1] + 1))
        target = rng.uniform(*self.coverage)
        centres = np.stack([rng.uniform(0.1, 0.9, n) * height, rng.uniform(0.1, 0.9, n) * width], 1)
        weights = rng.uniform(0.5, 1.5, n)  # patches of unequal size
        radii = np.sqrt(target * height * width * weights / weights.sum() / np.pi)
        angles = np.linspace(0, 2 * np.pi, self.vertices, endpoint=False)
        profiles = np.ones((n, self.vertices))
        for k in range(1, self.harmonics + 1):
            amplitude = rng.uniform(0, 0.35 / k, (n, 1))
            phase = rng.uniform(0, 2 * np.pi, (n, 1))
            profiles += amplitude * np.cos(k * angles + phase)
        # Overlaps and the image border shrink the union, so rescale the radii towards the target
        # area; a few steps reach it (the radius scale acts like the square root of the area).
        scale = 1.0
        for _ in range(12):
            mask = self._draw(shape, centres, radii, profiles, scale)
            covered = mask.mean()
            if abs(covered - target) < 0.002:
                break
            scale *= np.sqrt(target / max(covered, 1e-4))
        lo, hi = self.coverage
        if not lo <= covered <= hi:  # tiny images, where one pixel of radius is a big step
            mask = _grow_or_shrink(mask, target)
        return mask.astype(np.float32)


def _grow_or_shrink(mask, fraction):
    """Grow (or shrink) a binary mask outwards from (inwards to) its patches to cover exactly
    round(fraction * area) pixels."""
    wanted = int(round(fraction * mask.size))
    if mask.sum() < wanted:  # add the outside pixels nearest to the patches
        distance = cv2.distanceTransform((1 - mask).astype(np.uint8), cv2.DIST_L2, 3)
        order = np.argsort(distance, axis=None, kind="stable")
    else:  # keep the inside pixels farthest from the patch borders
        distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
        order = np.argsort(-distance, axis=None, kind="stable")
    out = np.zeros(mask.size, np.uint8)
    out[order[:wanted]] = 1
    return out.reshape(mask.shape)


class Strokes:
    """LaMa's thick strokes (Suvorov et al. 2022): 1 to 5 brush paths of 2 to 8 straight
    segments, 10 to 40 px thick at 256 x 384 (scaled with the image)."""

    def __call__(self, shape, rng):
        height, width = shape
        unit = np.sqrt(height * width / REFERENCE_AREA)
        mask = np.zeros(shape, np.uint8)
        for _ in range(int(rng.integers(1, 6))):
            thickness = max(1, int(round(rng.uniform(10, 40) * unit)))
            point = np.array([rng.uniform(0, width), rng.uniform(0, height)])
            for _ in range(int(rng.integers(2, 9))):
                angle = rng.uniform(0, 2 * np.pi)
                step = rng.uniform(20, 100) * unit * np.array([np.cos(angle), np.sin(angle)])
                end = np.clip(point + step, 0, [width - 1, height - 1])
                cv2.line(mask, tuple(map(int, point)), tuple(map(int, end)), 1, thickness)
                cv2.circle(mask, tuple(map(int, end)), thickness // 2, 1, -1)
                point = end
        return mask.astype(np.float32)


class Boxes:
    """LaMa's boxes: 1 to 3 rectangles, each side 10-40% of the image's."""

    def __call__(self, shape, rng):
        height, width = shape
        mask = np.zeros(shape, np.float32)
        for _ in range(int(rng.integers(1, 4))):
            h = max(1, int(height * rng.uniform(0.1, 0.4)))
            w = max(1, int(width * rng.uniform(0.1, 0.4)))
            top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
            mask[top:top + h, left:left + w] = 1.0
        return mask


class Mixed:
    """One of the other kinds per image, chosen with the given probabilities."""

    def __init__(self, kinds=None, probabilities=None):
        self.kinds = kinds or [Holes(), Centre(), Blobs()]
        self.probabilities = probabilities or [0.25, 0.35, 0.40]

    def __call__(self, shape, rng):
        kind = self.kinds[rng.choice(len(self.kinds), p=self.probabilities)]
        return kind(shape, rng)


class Wide(Mixed):
    """The Fourier inpainter's training masks: LaMa's wide kinds (strokes, boxes) with the
    project's own (blobs, centre, holes)."""

    def __init__(self):
        super().__init__([Strokes(), Boxes(), Blobs(), Centre(), Holes()],
                         [0.3, 0.2, 0.3, 0.1, 0.1])


MASK_KINDS = {"holes": Holes, "centre": Centre, "blobs": Blobs, "mixed": Mixed,
              "strokes": Strokes, "boxes": Boxes, "wide": Wide}


def mask_generator(kind):
    """The mask class for a kind name ('holes', 'centre', 'blobs', 'mixed'), instantiated."""
    try:
        return MASK_KINDS[kind]()
    except KeyError:
        raise ValueError(f"unknown mask kind {kind!r}; choose from {', '.join(MASK_KINDS)}")


def fixed_masks(kind, count, shape, seed):
    """The count masks that image 0..count-1 gets for this kind and seed: the same in every run,
    in training's validation and in evaluate.py."""
    generate = mask_generator(kind)
    return np.stack([generate(shape, np.random.default_rng([seed, index]))
                     for index in range(count)])
