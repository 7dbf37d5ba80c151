"""Paint loss for the first run's painting, made by a generator the detector never saw in
training (training/paint_loss.py made its losses): the paint layer cracks into a network of
small polygonal islands (Voronoi cells, as craquelure divides a paint film), and where the
film is weakest (a smooth random field) whole islands flake off in clusters, their edges sharp
and irregular; a few neighbouring islands lost together make larger lacunae, and a thin band
along some cracks is abraded. What shows through is the gesso: one warm off-white ground for
the whole painting, with its own grain; a few islands keep a veil of paint (a partial loss).

    losses(shape, seed) -> the true loss mask (H, W) bool
    damage(image, mask, seed) -> the painting with the ground showing where the mask is
"""
import cv2
import numpy as np

GESSO_LAB = (86.0, 2.5, 10.0)  # CIE Lab of the ground: a warm off-white chalk gesso


def _field(shape, scale, rng):
    """A smooth random field of unit spread whose features are about scale pixels."""
    small = (max(2, shape[0] // scale + 2), max(2, shape[1] // scale + 2))
    field = cv2.resize(rng.standard_normal(small).astype(np.float32), (shape[1], shape[0]),
                       interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / max(float(field.std()), 1e-6)


def _islands(shape, cell, rng):
    """Labels (H, W) int32 of the paint film's islands: Voronoi cells about cell pixels across,
    their seeds jittered on a grid."""
    height, width = shape
    ys, xs = np.mgrid[0:height + cell:cell, 0:width + cell:cell]
    seeds = np.stack([xs.ravel(), ys.ravel()], 1) + rng.uniform(-0.45, 0.45, (xs.size, 2)) * cell
    subdivision = cv2.Subdiv2D((-2 * cell, -2 * cell, width + 4 * cell, height + 4 * cell))
    subdivision.insert([(float(x), float(y)) for x, y in seeds])
    facets, _ = subdivision.getVoronoiFacetList([])
    labels = np.zeros(shape, np.int32)
    for index, facet in enumerate(facets, 1):
        cv2.fillConvexPoly(labels, np.round(facet).astype(np.int32), index)
    return labels, len(facets)


def losses(shape, seed=0, share=0.05):
    """The true loss mask (H, W) bool, about share of the painting lost."""
    rng = np.random.default_rng(seed)
    labels, count = _islands(shape, int(rng.integers(9, 14)), rng)
    weakness = _field(shape, 90, rng) + 0.35 * _field(shape, 25, rng)
    # each island flakes off with a chance that rises with the weakness at its centre (its rank
    # among the islands): clusters of separate flakes where the film is weak, a few strays
    # elsewhere, and where it is weakest neighbouring islands lost together (a lacuna)
    centre = np.zeros(count + 1)
    np.add.at(centre, labels.ravel(), weakness.ravel())
    area = np.bincount(labels.ravel(), minlength=count + 1).astype(float)
    mean = centre / np.maximum(area, 1)
    mean[0] = -np.inf
    mean[area == 0] = -np.inf  # facets outside the painting
    order = np.argsort(-mean)
    rank = np.empty(count + 1)
    rank[order] = np.arange(count + 1) / int(np.count_nonzero(area))
    chance = np.clip(1.0 - rank / (3.0 * share), 0, 1) ** 1.5
    lost = rng.random(count + 1) < chance
    lost[0] = False
    lacuna = rank < 0.12 * share
    # the paint along the crack between two flakes stays, except inside a lacuna
    cracks = (labels != np.roll(labels, 1, 0)) | (labels != np.roll(labels, 1, 1))
    cracks = cv2.dilate(cracks.view(np.uint8), np.ones((2, 2), np.uint8)) > 0
    mask = lost[labels] & ~cracks
    # each flake's edge eaten into, or grown, by fine noise, one or two pixels either way
    ragged = _field(shape, 3, rng)
    inside = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~mask).view(np.uint8), cv2.DIST_L2, 3)
    lacunae = cv2.morphologyEx(lacuna[labels].view(np.uint8), cv2.MORPH_CLOSE,
                               np.ones((3, 3), np.uint8)) > 0
    mask = (np.where(mask, inside, -outside) + 0.8 * ragged > 0.6) | lacunae
    # abrasion: thin bands along a few crack lines near the losses
    near = cv2.dilate(mask.view(np.uint8), np.ones((9, 9), np.uint8)) > 0
    abraded = cracks & near & (_field(shape, 40, rng) > 1.5)
    return mask | abraded


def damage(image, mask, seed=0, veil=0.2):
    """The painting (H, W, 3) float32 in [0, 1] with the gesso showing where mask is: the
    ground's colour with its grain and a little mottling; on a veil share of the losses a thin
    film of the paint remains over it. Returns float32 (H, W, 3)."""
    rng = np.random.default_rng(seed + 1)
    shape = mask.shape
    lab = np.empty((*shape, 3), np.float32)
    lab[:] = GESSO_LAB
    lab[..., 0] += 2.5 * _field(shape, 30, rng) + 1.8 * rng.standard_normal(shape)
    lab[..., 2] += 1.5 * _field(shape, 50, rng)
    ground = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)
    count, regions = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    film = np.zeros(count, np.float32)
    film[1:] = np.where(rng.random(count - 1) < veil, rng.uniform(0.25, 0.45, count - 1), 0)
    alpha = (1.0 - film[regions])[..., None] * mask[..., None]
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6)[..., None]  # a photograph's soft edge
    return (image * (1 - alpha) + ground * alpha).astype(np.float32)
