"""Fill the damage of a painting at its own resolution.

Classical methods run on the full-resolution image. A learned model runs at its own size
(256 x 384): the painting and mask are shrunk, the model fills the holes, and its output is enlarged again.
Only hole pixels are taken from it, and it is blended in seamlessly: the difference between the
painting and the enlarged output, known on the known pixels, is spread into the holes with the
pyramid fill, so at a hole's edge the fill meets its surroundings exactly and deep inside it is
the model's own. Known pixels are never changed.

`auto` splits the mask into regions: thin ones (every pixel within `thin_radius` pixels of known
paint: specks, cracks, strokes) go to OpenCV Navier-Stokes, which evaluate.py measured ahead of
the learned models on small holes (26.6 dB against 25.7 dB on `holes`) at a few milliseconds;
wide ones go to the learned model, which beat every classical method on large holes (`centre`,
`blobs`), or to the pyramid fill when no model is given.
"""
import cv2
import numpy as np

from utils.inpaint import classical, load_inpainting_model, model_size, pyramid_fill
from utils.masks import composite, damage

METHODS = ("auto", "telea", "ns", "biharmonic", "pyramid")


def learned_fill(model, image, mask, max_crops=64):
    """A model's fill of image (H, W, 3) at the model's size, enlarged to H x W and blended in."""
    height, width = image.shape[:2]
    size = model_size(model)
    small = cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA)
    # A small pixel is missing if any of the pixels it covers is: white paint must not leak in.
    small_mask = (cv2.resize(mask.astype(np.float32), size[::-1],
                             interpolation=cv2.INTER_AREA) > 0).astype(np.float32)
    inputs = [damage(small, small_mask)[None], small_mask[None, ..., None]]
    output = model.predict_on_batch(inputs if len(model.inputs) == 2 else inputs[0])
    output = np.asarray(output)[0]
    enlarged = cv2.resize(composite(output, small, small_mask), (width, height),
                          interpolation=cv2.INTER_CUBIC)
    # Seamless edges: spread the known pixels' difference from the enlargement into the holes.
    # Region by region, on a crop around each (a quarter of its size of paint around it), when
    # there are few: the pyramid then runs on a fraction of the painting.
    holes = (mask > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=8)
    if count - 1 > max_crops:
        return np.clip(enlarged + pyramid_fill(image - enlarged, mask), 0.0, 1.0)
    filled = image.copy()
    for label in range(1, count):
        x, y, w, h = stats[label, :4]
        margin = max(8, max(w, h) // 4)
        crop = (slice(max(0, y - margin), min(height, y + h + margin)),
                slice(max(0, x - margin), min(width, x + w + margin)))
        offset = pyramid_fill(image[crop] - enlarged[crop], holes[crop])
        region = labels[crop] == label
        filled[crop][region] = np.clip(enlarged[crop] + offset, 0.0, 1.0)[region]
    return filled


def region_sizes(mask):
    """Each missing pixel's region's inscribed radius: the largest distance from any of its
    pixels to the nearest known pixel (0 where known)."""
    holes = (mask > 0.5).astype(np.uint8)
    count, labels = cv2.connectedComponents(holes, connectivity=8)
    distance = cv2.distanceTransform(holes, cv2.DIST_L2, 3)
    radius = np.zeros(count, np.float32)
    np.maximum.at(radius, labels.ravel(), distance.ravel())
    radius[0] = 0.0
    return radius[labels]


def restore_image(image, mask, method="auto", model=None, radius=3, thin_radius=6.0):
    """The painting with its holes filled; every known pixel exactly as it was.

    method: one of METHODS (auto uses model for wide regions when given, else the pyramid), or
    "model" for the model alone. image: float32 (H, W, 3) in [0, 1]; mask: (H, W), 1 = missing.
    """
    mask = (np.asarray(mask) > 0.5).astype(np.float32)
    if not mask.any():
        return image.copy()
    if method == "model":
        filled = learned_fill(model, image, mask)
    elif method in ("telea", "ns"):
        filled = classical(image, mask, method, radius=radius)
    elif method in ("biharmonic", "pyramid"):
        filled = classical(image, mask, method)
    elif method == "auto":
        wide = (region_sizes(mask) > thin_radius).astype(np.float32)
        thin = mask * (1.0 - wide)
        # Each step keeps every pixel outside its own mask (classical() composites, and
        # learned_fill only writes its regions), so no full-size compositing is needed here.
        filled = classical(image, thin, "ns", radius=radius) if thin.any() else image
        if wide.any():
            # The thin regions are filled by now, so the model sees them as paint.
            filled = (learned_fill(model, filled, wide) if model is not None
                      else pyramid_fill(filled, wide))
    else:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS} or 'model'")
    return np.where(mask[..., None] > 0, filled, image).astype(np.float32)


def load_method(name):
    """(method, model) for a --method value: a method name, or a path to a .keras model."""
    if name in METHODS:
        return name, None
    return "model", load_inpainting_model(name)
