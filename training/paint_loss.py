"""Synthetic paint loss of realistic appearance, to train the damage detector on clean paintings.

A real loss is the ground showing where paint fell off: parchment, gesso, plaster or canvas, pale
and usually lighter than the paint around it, but pinkish, greyish, ochre or white depending on
the painting; textured, with soft or blended edges, sometimes only partly faded. `PaintLoss` puts
such losses on a clean image and returns the image with the mask of what it damaged, so that a
network learns what a loss looks like on any painting, and (from the clean paintings, whites
included) what it does not.

Shapes are small generator classes combined by probability, as the inpainting masks are
(utils/masks.py): flakes (jagged islands, the manuscripts' flaking), blobs, cracks, scratches,
specks and brush strokes (the Thai murals' synthetic damage). Mask convention: 1 = damaged.
"""
import cv2
import numpy as np

from utils.masks import Blobs


def _noise(shape, scale, rng):
    """Smooth random field of unit standard deviation whose features are about scale pixels
    (made at a lower resolution and enlarged when they are wide: the same look, far faster)."""
    factor = max(1.0, scale / 2.0)
    small = tuple(max(2, int(np.ceil(side / factor)) + 2) for side in shape)
    field = rng.standard_normal(small).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), max(scale / factor, 0.5))
    if factor > 1.0:
        field = cv2.resize(field, (int(small[1] * factor), int(small[0] * factor)),
                           interpolation=cv2.INTER_LINEAR)
    field = field[:shape[0], :shape[1]]
    return field / max(float(field.std()), 1e-6)


class Flakes:
    """A cluster of jagged islands: paint that flaked off along its cracks."""

    def __call__(self, shape, rng):
        height, width = shape
        envelope = Blobs(count=(1, 3), coverage=(0.02, 0.15))(shape, rng)
        envelope = cv2.GaussianBlur(envelope, (0, 0), min(height, width) * 0.04)
        field = _noise(shape, rng.uniform(1.5, 6.0), rng) + 0.5 * _noise(shape, 0.8, rng)
        threshold = rng.uniform(-0.2, 0.8)
        return ((field * 0.6 + 2.5 * envelope / max(envelope.max(), 1e-6)) > 1.2 + threshold)


class SmallBlobs:
    """A few irregular patches, 0.5 to 8% of the image."""

    def __call__(self, shape, rng):
        return Blobs(count=(1, 5), coverage=(0.005, 0.08), harmonics=6)(shape, rng) > 0


def _polyline(shape, rng, steps, step, turn):
    """Points of a random walk that keeps its direction roughly (a crack, a scratch)."""
    y, x = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
    angle = rng.uniform(0, 2 * np.pi)
    points = [(x, y)]
    for _ in range(steps):
        angle += rng.normal(0, turn)
        x, y = x + step * np.cos(angle), y + step * np.sin(angle)
        points.append((x, y))
    return np.round(np.array(points)).astype(np.int32)


class Lines:
    """Random-walk lines: count lines of steps steps of step pixels, the direction turning by
    turn radians (standard deviation) a step, width pixels wide; each range (low, high)."""

    def __init__(self, count, steps, step, turn, width):
        self.count, self.steps, self.step, self.turn, self.width = count, steps, step, turn, width

    def __call__(self, shape, rng):
        mask = np.zeros(shape, np.uint8)
        for _ in range(int(rng.integers(*self.count))):
            points = _polyline(shape, rng, int(rng.integers(*self.steps)),
                               rng.uniform(*self.step), self.turn)
            cv2.polylines(mask, [points], False, 1, int(rng.integers(*self.width)))
        return mask > 0


class Specks:
    """Many tiny losses, 1-4 pixels across, in clusters."""

    def __call__(self, shape, rng):
        mask = np.zeros(shape, np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
            spread = rng.uniform(10, 0.3 * max(shape))
            for _ in range(int(rng.integers(10, 80))):
                centre = (int(cx + rng.normal(0, spread)), int(cy + rng.normal(0, spread)))
                cv2.circle(mask, centre, int(rng.integers(1, 3)), 1, -1)
        return mask > 0


# Ground colours in CIE Lab (L 0-100, a, b): ranges of L, a, b for each family.
GROUNDS = {
    "parchment": ((55, 80), (6, 22), (12, 32)),
    "white": ((82, 99), (-3, 4), (-2, 14)),
    "plaster": ((55, 88), (-3, 3), (-3, 10)),
    "ochre": ((55, 80), (0, 14), (20, 45)),
    "any pale": ((45, 97), (-8, 25), (-10, 45)),
}
SHAPES = {
    "flakes": Flakes(),
    "blobs": SmallBlobs(),
    # wandering thin lines, 1-3 pixels wide (craquelure where the ground shows)
    "cracks": Lines(count=(2, 12), steps=(5, 40), step=(3, 10), turn=0.5, width=(1, 4)),
    # nearly straight lines 1-4 pixels wide
    "scratches": Lines(count=(1, 6), steps=(3, 12), step=(10, 40), turn=0.08, width=(1, 5)),
    "specks": Specks(),
    # curved brush strokes 3-14 pixels wide (the synthetic damage of inpainting benchmarks)
    "strokes": Lines(count=(1, 6), steps=(2, 8), step=(10, 40), turn=0.6, width=(3, 15)),
}


def _convert(values, code):
    values = np.asarray(values, np.float32)
    return cv2.cvtColor(values.reshape(-1, 1, 3), code).reshape(values.shape)


def _lab_to_rgb(lab):
    """float Lab (..., 3) to float RGB in [0, 1] (OpenCV's float conversion reads L in 0-100)."""
    return np.clip(_convert(lab, cv2.COLOR_Lab2RGB), 0, 1)


def _rgb_to_lab(rgb):
    return _convert(np.clip(rgb, 0, 1), cv2.COLOR_RGB2Lab)


def _decoy_shape(shape, rng):
    """Where pale paint is painted, not lost: a smooth-edged band (a banner, a border, a
    frame's edge), an ellipse (a highlight, a white robe, a cloud) or a rectangle (a painted
    panel); regular, smooth edges where a loss's are ragged. float32 (H, W) in [0, 1]."""
    height, width = shape
    drawn = np.zeros(shape, np.uint8)
    kind = rng.integers(3)
    if kind == 0:
        points = _polyline(shape, rng, int(rng.integers(2, 5)), rng.uniform(40, 160), 0.15)
        cv2.polylines(drawn, [points], False, 1, int(rng.integers(6, 40)), cv2.LINE_AA)
    elif kind == 1:
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        axes = (int(rng.uniform(8, 0.4 * width)), int(rng.uniform(8, 0.4 * height)))
        cv2.ellipse(drawn, centre, axes, rng.uniform(0, 180), 0, 360, 1, -1, cv2.LINE_AA)
    else:
        x, y = int(rng.uniform(0, width * 0.7)), int(rng.uniform(0, height * 0.7))
        cv2.rectangle(drawn, (x, y), (x + int(rng.uniform(20, width * 0.6)),
                                      y + int(rng.uniform(20, height * 0.6))), 1, -1)
    area = drawn.astype(np.float32)
    return cv2.GaussianBlur(area, (0, 0), rng.uniform(0.8, 4.0 if kind == 1 else 2.0))


class PaintLoss:
    """Damage a clean image (H, W, 3) float32 in [0, 1] with realistic paint loss.

    Returns (damaged image, mask (H, W) float32, 1 = damaged). With probability `clean` the image
    is left undamaged (only the photometric changes), so the detector learns to stay silent.
    With probability `decoys` pale paint is painted on it first and left unmarked (hard
    negatives: what fooled the detector on real paintings, banners, borders, highlights, pale
    painted grounds): of a ground's colours, but brushed (the paint's own structure showing
    through, no grain of a bare ground) and with regular, smooth edges.
    """

    def __init__(self, clean=0.3, events=(1, 3), shape_weights=None, ground_weights=None,
                 decoys=0.0):
        self.clean, self.events, self.decoys = clean, events, decoys
        self.shape_weights = shape_weights or {"flakes": 0.3, "blobs": 0.2, "cracks": 0.1,
                                               "scratches": 0.1, "specks": 0.1, "strokes": 0.2}
        self.ground_weights = ground_weights or {"parchment": 0.25, "white": 0.2,
                                                 "plaster": 0.2, "ochre": 0.15, "any pale": 0.2}

    def _choice(self, weights, rng):
        names = list(weights)
        p = np.array([weights[n] for n in names], float)
        return names[rng.choice(len(names), p=p / p.sum())]

    def _ground(self, image, region, rng):
        """The ground's colour field over the whole image: a base colour, lighter than the paint
        around the loss most of the time, with mottling and grain."""
        shape = image.shape[:2]
        (l0, l1), (a0, a1), (b0, b1) = GROUNDS[self._choice(self.ground_weights, rng)]
        lab = np.array([rng.uniform(l0, l1), rng.uniform(a0, a1), rng.uniform(b0, b1)],
                       np.float32)
        around = _rgb_to_lab(image[cv2.dilate(region.view(np.uint8), np.ones((9, 9))) > 0])
        if len(around) and rng.uniform() < 0.85:
            lab[0] = max(lab[0], float(np.median(around[:, 0])) + rng.uniform(4, 20))
        lab[0] = min(lab[0], 99.0)
        field = np.empty((*shape, 3), np.float32)
        field[:] = lab
        field[..., 0] += rng.uniform(0.5, 6) * _noise(shape, rng.uniform(4, 30), rng)
        field[..., 1:] += rng.uniform(0.3, 3) * _noise(shape, rng.uniform(4, 30), rng)[..., None]
        field[..., 0] += rng.uniform(0.3, 4) * _noise(shape, rng.uniform(0.5, 1.5), rng)
        ground = _lab_to_rgb(field)
        if rng.uniform() < 0.3:  # the paint's relief still shading the ground a little
            detail = image.mean(-1, keepdims=True) - cv2.GaussianBlur(image, (0, 0), 3).mean(
                -1, keepdims=True)
            ground = np.clip(ground + rng.uniform(0.2, 0.8) * detail, 0, 1)
        return ground

    def _alpha(self, region, rng):
        """How much of the ground shows: soft edges, sometimes partly faded."""
        alpha = region.astype(np.float32)
        sigma = rng.uniform(0, 1.5)
        if sigma > 0.3:
            alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
        if rng.uniform() < 0.3:
            fade = 1 - rng.uniform(0.1, 0.5) * np.clip(_noise(region.shape, 20, rng) + 0.5, 0, 1)
            alpha = alpha * fade
        return alpha

    def __call__(self, image, rng):
        image = np.asarray(image, np.float32)
        shape = image.shape[:2]
        mask = np.zeros(shape, np.float32)
        damaged = image.copy()
        if self.decoys and rng.uniform() < self.decoys:
            for _ in range(int(rng.integers(1, 3))):
                damaged = self._decoy(damaged, rng)
        if rng.uniform() >= self.clean:
            for _ in range(int(rng.integers(self.events[0], self.events[1] + 1))):
                region = SHAPES[self._choice(self.shape_weights, rng)](shape, rng)
                if not region.any():
                    continue
                # Only the box around the loss (and the paint just around it) is worked on.
                rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
                box = (slice(max(0, rows[0] - 8), rows[-1] + 9),
                       slice(max(0, cols[0] - 8), cols[-1] + 9))
                alpha = self._alpha(region[box], rng)[..., None]
                damaged[box] = damaged[box] * (1 - alpha) + \
                    self._ground(damaged[box], region[box], rng) * alpha
                mask[box] = np.maximum(mask[box], (alpha[..., 0] >= 0.5).astype(np.float32))
        return photometric(damaged, rng), mask

    def _decoy(self, image, rng):
        """Pale paint over part of the image (see the class)."""
        area = _decoy_shape(image.shape[:2], rng)[..., None]
        (l0, l1), (a0, a1), (b0, b1) = GROUNDS[self._choice(self.ground_weights, rng)]
        lab = np.empty((*image.shape[:2], 3), np.float32)
        lab[:] = (rng.uniform(l0, l1), rng.uniform(a0, a1), rng.uniform(b0, b1))
        lab[..., 0] += rng.uniform(1, 6) * _noise(image.shape[:2], rng.uniform(8, 40), rng)
        paint = _lab_to_rgb(lab)
        # brushed: the paint beneath, or strokes of its own, still shape its lightness
        detail = image - cv2.GaussianBlur(image, (0, 0), 4)
        paint = np.clip(paint + rng.uniform(0.3, 1.0) * detail, 0, 1)
        opacity = rng.uniform(0.6, 1.0)
        return (image * (1 - opacity * area) + paint * opacity * area).astype(np.float32)


def photometric(image, rng):
    """Random exposure, contrast, gamma, colour balance, saturation, blur and noise: the ways
    photographs of paintings differ, so the detector does not learn one camera's look."""
    image = image * rng.uniform(0.85, 1.15) + rng.uniform(-0.06, 0.06)
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.75, 1.25) + mean
    image = np.clip(image, 0, 1) ** rng.uniform(0.75, 1.35)
    image = image * rng.uniform(0.9, 1.1, 3).astype(np.float32)
    grey = image.mean(-1, keepdims=True)
    image = grey + (image - grey) * rng.uniform(0.6, 1.4)
    if rng.uniform() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.2))
    if rng.uniform() < 0.5:
        image = image + rng.normal(0, rng.uniform(0.002, 0.02), image.shape)
    return np.clip(image, 0, 1).astype(np.float32)
