"""Small flakes at the painting's own resolution: where paint has flaked off a darker passage,
the pale ground shows as a speck brighter than all the paint around it. The detector network
reads a copy of the painting at most DETAIL_SIDE pixels a side, where a flake of one to four
pixels is blurred into the paint (mural-real-322's flakes on its black robes: 0.0% found), so
the specks are found here, pixel by pixel, by what sets them apart from painted light:

- **enclosed**: lighter by at least CONTRAST (CIE L*, 0-100) than the lightest pixel of a ring
  around it (radius 2, 3, 5 or 8 pixels): a speck, not a pale stroke or passage, whose own
  pixels would fill the ring;
- **pale ground**: of low chroma (under CHROMA): plaster, gesso, chalk or parchment, not a
  yellow star or a green dab;
- **small**: each speck grown over its soft rim (its pixels CONTRAST / 2 above the paint around
  them) and kept only when it stays small (at most LARGEST pixels and SPAN pixels across);
- **many**: a flaking painting shows dozens; a clean one's highlights are a few (FEWEST).

Chosen by looking at mural-real-322 (it has no mask) and by the share marked of the 24 val
paintings and the 197 held-out corpus paintings (docs/detection.md): alone, before auto's
margin, contrast 25 marked 0.12% / 0.17% of them on average, 35 0.03% / 0.05% with nearly the
same flakes of the mural found, and with the count gate 0.01% / 0.02%.
"""
import cv2
import numpy as np

from detection.maps import to_rgb8

CONTRAST = 35.0       # L* a speck stands above the lightest of the paint around it
CHROMA = 20.0         # a speck's chroma (CIE a*, b*) at most: the ground is pale and neutral
RADII = (2, 3, 5, 8)  # the rings' radii, in the painting's pixels
SPAN = 48             # a speck is at most this many pixels across
LARGEST = 4 * (max(RADII) + 1) ** 2  # ... and of at most this many pixels
# a painting's specks are losses only where there are many: a flaking painting shows dozens
# (mural-real-322: 74), a clean one's highlights a few (the held-out corpus: none on 60% of
# them, 4 or fewer on nine in ten, 20 or more on 4 of 197); at least this many, and this many
# a megapixel
FEWEST = 20
FEWEST_PER_MEGAPIXEL = 20
# a painting is read in bands of rows with this many rows of it above and below: more than a
# kept speck spans plus the rings' reach, so that every band's specks are the whole painting's
HALO = SPAN + 4 * max(RADII)
# beyond the painting's edge the rings read its edge pixels (a speck cut by the edge is not
# seen as one; a uniform painting smaller than a ring marks nothing)
EDGE = cv2.BORDER_REPLICATE


def _ring(radius):
    """The pixels at the radius's edge of a disc: those with a neighbour (of eight) outside it,
    a closed ring that no line of pixels, straight or diagonal, crosses without touching."""
    size = 2 * radius + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    inside = cv2.erode(disc, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT,
                       borderValue=0)
    return disc - inside


def _band(rgb8, contrast, chroma, top, bottom):
    """The specks of a band of rows (bool), and how many of them have their top row within
    rows top:bottom of it."""
    # OpenCV's 8-bit Lab: L* scaled to 0-255, a* and b* offset by 128 (uint8 morphology is
    # several times faster than float's on a large scan)
    lab = cv2.cvtColor(rgb8, cv2.COLOR_RGB2Lab)
    lightness = np.ascontiguousarray(lab[..., 0])
    step = contrast * 255 / 100
    core = np.zeros(lightness.shape, bool)
    for radius in RADII:
        ring = cv2.dilate(lightness, _ring(radius), borderType=EDGE)
        core |= cv2.subtract(lightness, ring) >= step
    where = np.flatnonzero(core)
    if not len(where):
        return core, 0
    ab = lab.reshape(-1, 3)[where, 1:].astype(np.float32) - 128
    core.flat[where] = np.hypot(ab[:, 0], ab[:, 1]) < chroma
    # each speck grown over its soft rim: the pixels half its contrast above the paint around
    # (an opening as wide as the widest ring)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(RADII) + 1,) * 2)
    paint = cv2.morphologyEx(lightness, cv2.MORPH_OPEN, disc, borderType=EDGE)
    rim = cv2.subtract(lightness, paint) >= step / 2
    rim |= core
    count, labels, stats, _ = cv2.connectedComponentsWithStats(rim.view(np.uint8),
                                                               connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels.flat[np.flatnonzero(core)])] = True
    keep &= stats[:, cv2.CC_STAT_AREA] <= LARGEST
    keep &= np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) <= SPAN
    keep[0] = False
    starts = stats[:, cv2.CC_STAT_TOP]
    marked = np.flatnonzero(rim)  # a few percent of the band: only they can be kept
    found = np.zeros(rim.shape, bool)
    found.flat[marked] = keep[labels.flat[marked]]
    return found, int(np.count_nonzero(keep & (starts >= top) & (starts < bottom)))


def settings(contrast=CONTRAST):
    """What makes the specks at a contrast, for a record."""
    return {"contrast": contrast, "chroma": CHROMA, "radii": list(RADII), "fewest": FEWEST,
            "fewest_per_megapixel": FEWEST_PER_MEGAPIXEL}


def pale_specks(image, contrast=CONTRAST, chroma=CHROMA, rows=512):
    """bool (H, W): the pale specks of a painting (H, W, 1 or 3; 8- or 16-bit or floats in
    [0, 1]) at its own resolution, read in bands of rows (memory bounded at any size; the same
    result whatever rows is); none where they are fewer than a flaking painting shows
    (FEWEST, or FEWEST_PER_MEGAPIXEL on a large painting)."""
    image = np.asarray(image)
    height, width = image.shape[:2]
    found = np.zeros((height, width), bool)
    rows = max(1, int(rows))
    count = 0
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        a, b = max(0, top - HALO), min(height, bottom + HALO)
        band, counted = _band(to_rgb8(image[a:b]), contrast, chroma, top - a, bottom - a)
        found[top:bottom] = band[top - a:bottom - a]
        count += counted  # each speck counted in the band holding its top row
    if count < max(FEWEST, FEWEST_PER_MEGAPIXEL * height * width / 1e6):
        found[:] = False
    return found
