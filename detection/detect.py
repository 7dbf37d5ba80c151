"""Find paint loss: where the ground (parchment, gesso, plaster) shows through the paint.

A loss is rarely pure white. It is pale, lighter than the paint around it, flatter in texture,
and within one painting it forms its own colour cluster: pinkish parchment on a manuscript,
grey plaster on a fresco. So detection is relative to each painting, never an absolute colour.
Four ways, each a `Detector(method=...)` and an entry of detection/registry.py (whose
summaries --help prints):

- "auto" (the default): "learned", then on a clearly damaged painting a classifier of its own
  pixels taught by the network's surest losses, and the pale specks at the painting's
  resolution (detection/specks.py);
- "learned": a U-Net (models/detector.py) trained on clean paintings with
  synthetic losses of realistic appearance marks the probability of loss at each pixel;
- "colour": the network, then a classifier of the painting's own pixels (detection/learn.py)
  learned from the losses it is surest of against what it is sure is paint, as clicks on those
  losses would teach it. It finds more of the losses on a damaged page, and marks more on a
  clean one (docs/detection.md);
- "white": the old rule, near-white cores grown into their blended edges, for pure-white
  marks (the synthetic strokes of inpainting benchmarks).

A click on a loss (`points`, `restore.py --point x,y`) selects the loss under it and nothing
else: its connected extent, segmented on a crop around the click at the painting's resolution
(colour region growing, kept before it floods into paint of a near colour, refined by GrabCut,
whose edge term stops at the paint's edges and which adds at most a rim to it), grown
until it no longer touches the crop's border, with a margin of a few pixels as a restorer draws
one. A click never reaches a region it is not connected to (the pink flesh of a face is not the
pink parchment beside it). `points_out` (shift-clicks, `--point-out`) mark paint that must not be
selected. Selecting every loss like the clicked ones across the painting is a separate, explicit
choice (`similar`, `--similar`): a classifier of this painting's pixels (detection/learn.py)
fitted on the clicked losses (and, in the workbench, the brush strokes) against the paint (drawn
at random, the paint under the shift-clicks, the eraser strokes) marks every pixel like them.

Every method but "white" reads the painting with the network on two copies: one shrunk to at
most ANALYSIS_SIDE pixels on its longest side (the scale of the paintings the network learned on,
where a wide loss is seen whole with the paint around it) and, on a painting at least DETAIL_FROM
pixels a side, a detail copy of at most detail_side pixels (its own size with 0), read in tiles,
where the flakes of a large scan are still a few pixels wide (detection/maps.py); it keeps the
larger of the two probabilities, cleans the mask on the detail copy (losses kept whole, specks
removed) and enlarges it to the painting's size; `grow` then widens (or, negative, narrows) it by
whole pixels of the painting, the margin restorers give a mask.
"""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detection import learn
from detection.learn import PaintingModel
from detection.maps import (AUTOMATIC_MARGIN, DETAIL_SIDE, SURE_LOSS, clean, full_size, grown,
                            to_rgb8, trim_rims, warm_up)
from detection.registry import DETECTIONS
from detection import specks
from models.loading import PRETRAINED, load_detector
from utils.errors import UserError

DEFAULT_DETECTOR = PRETRAINED / "detector.keras"
DEFAULT_THRESHOLD = 0.95


@dataclass
class Detector:
    method: str = "auto"             # auto, learned, colour or white (see the module's docstring)
    points: tuple = ()               # clicks on losses, (x, y) in the painting's pixels
    points_out: tuple = ()           # clicks on paint that must not be selected
    similar: bool = False            # clicks also select every loss like them (see above)
    grow: int = 0                    # widen the mask by this many pixels (negative: narrow it)
    threshold: float = DEFAULT_THRESHOLD  # a loss above this probability (chosen on clean
    #                                  paintings: docs/detection.md); auto's specks follow it
    min_area: int = 4                # smallest loss kept, in pixels of the copy analysed
    detail_side: int = DETAIL_SIDE   # the network's detail copy: at most this many pixels a
    #                                  side, 0 for the painting's own (detection/maps.py)
    min_share: float = 0.005         # learned, colour: the image-level decision (see below)
    model: str = str(DEFAULT_DETECTOR)  # learned, colour: the detector model file

    def __post_init__(self):
        if self.method not in DETECTIONS:
            raise UserError(f"--detect {self.method}: choose one of {', '.join(DETECTIONS)}")
        if not 0 < self.threshold < 1:
            raise UserError(f"--threshold {self.threshold}: a probability, between 0 and 1")
        if self.min_area < 1:
            raise UserError(f"--min-area {self.min_area}: must be at least 1")
        if self.detail_side < 0 or 0 < self.detail_side < 32:
            raise UserError(f"--detail-side {self.detail_side}: at least 32 pixels, or 0 for "
                            f"the painting's own size")
        if not 0 <= self.min_share < 1:
            raise UserError(f"--min-share {self.min_share}: a share, from 0 to below 1")
        self.points = tuple((int(x), int(y)) for x, y in self.points)
        self.points_out = tuple((int(x), int(y)) for x, y in self.points_out)

    def settings(self):
        """What a record should say of this detector (with its model file's sha256)."""
        from utils.files import sha256
        record = {"method": "clicks" if self.points else self.method, "points": self.points,
                  "points_out": self.points_out, "similar": self.similar, "grow": self.grow,
                  "min_area": self.min_area}
        if DETECTIONS[self.method].network and not self.points:
            record.update(threshold=self.threshold, min_share=self.min_share,
                          detail_side=self.detail_side,
                          margin=AUTOMATIC_MARGIN, model={
                "path": str(Path(self.model).resolve()), "sha256": sha256(self.model)})
            if DETECTIONS[self.method].specks:
                record["specks"] = specks.settings(self.speck_contrast(self.threshold))
        return record

    @staticmethod
    def speck_contrast(threshold):
        """The contrast auto's specks are found at (detection/specks.py) at a threshold: theirs
        at the default, moved in proportion, so that the slider moves them too."""
        return specks.CONTRAST * threshold / DEFAULT_THRESHOLD

    def network(self):
        return load_detector(str(Path(self.model).resolve()))

    def warm_up(self):
        """Load what finding a painting's losses will use and make its first calls
        (TensorFlow's and scikit-learn's start-up), so that no painting waits for them."""
        if self.points:
            if self.similar:
                learn.warm_up()
            return
        entry = DETECTIONS[self.method]
        if entry.network:
            warm_up(self.network())
        if entry.classifier:
            learn.warm_up()

    def __call__(self, image, model=None, under=None):
        """The damage mask (H, W) uint8, 1 = loss, of an image (H, W, 1 or 3) of 8- or 16-bit
        samples or floats in [0, 1]: the clicks' losses, or the method's (detection/registry.py).
        model: the image's PaintingModel (detection/learn.py) for similar, when kept; under:
        under_clicks' result, when the caller has it (a click's segmentation is not repeated)."""
        image = np.asarray(image)
        height, width = image.shape[:2]
        for option, points in (("--point", self.points), ("--point-out", self.points_out)):
            for x, y in points:
                if not (0 <= x < width and 0 <= y < height):
                    raise UserError(f"{option} {x},{y} lies outside the {width} x {height} "
                                    f"painting")
        if self.points:
            return self._clicked(image, model, under)
        return DETECTIONS[self.method].find(self, image)

    def probability(self, image):
        """The network's probability of loss (h, w) float32 on the analysed copy of a painting,
        for a method whose mask is a threshold of it (its registry entry has `probability`),
        else None: what a threshold slider redraws from, computed once."""
        entry = DETECTIONS[self.method]
        if self.points or entry.probability is None:
            return None
        return entry.probability(self, np.asarray(image))

    def from_probability(self, probability, shape, threshold=None, image=None, copies=None):
        """The mask (H, W) uint8 that this detector makes of its probability map at threshold
        (default its own): what calling it gives, without running the network again. With the
        painting (image), each loss's rim is decided at its resolution (maps.trim_rims; copies:
        the painting's maps.Copies, when the caller has them)."""
        threshold = self.threshold if threshold is None else threshold
        if not 0 < threshold < 1:
            raise UserError(f"threshold {threshold}: a probability, between 0 and 1")
        with ThreadPoolExecutor(1) as pool:
            # the flakes the network's copies blur, at the painting's resolution, whether or not
            # the network judged it damaged; the slider moves their contrast with it. Found
            # beside the rims (OpenCV leaves Python's lock: both in about the time of one)
            speckled = (pool.submit(specks.pale_specks, image, self.speck_contrast(threshold))
                        if image is not None and DETECTIONS[self.method].specks else None)
            if self.damaged(probability):
                found = clean(probability > threshold, self.min_area)
                mask = full_size(found, shape)
                if image is not None:
                    trim_rims(mask, found, image, copies=copies)
            else:
                mask = np.zeros(shape, np.uint8)
            if speckled is not None:
                mask |= speckled.result().view(np.uint8)
        return grown(mask, self.grow + AUTOMATIC_MARGIN)

    def damaged(self, probability):
        """The image-level decision, before any pixel is marked: is the painting damaged at all?
        Only if at least min_share of its analysed copy is a loss with SURE_LOSS probability (a
        clean painting's false alarms are mostly small and less sure; docs/detection.md)."""
        return np.count_nonzero(probability > SURE_LOSS) >= self.min_share * probability.size

    def under_clicks(self, image):
        """The losses under the clicks alone, bool (H, W): each segmented around its click,
        kept from the shift-clicks, before similar, the margin or the shift-clicks' regions."""
        image = np.asarray(image)
        mask = np.zeros(image.shape[:2], bool)
        for point in self.points:
            mask |= select_at(image, point, self.points_out)
        return mask

    def _clicked(self, image, model=None, under=None):
        """The losses under the clicks, and with similar every loss like them (a classifier of
        this painting's pixels fitted on the clicked losses against the paint: detection/
        learn.py; model: its PaintingModel, when the caller keeps one); never a region holding
        a shift-click."""
        height, width = image.shape[:2]
        mask = self.under_clicks(image) if under is None else under.copy()
        if self.similar:
            paint = np.zeros((height, width), bool)
            for point in self.points_out:  # the paint under a shift-click: an example of paint
                paint |= select_at(image, point)
            mask |= (model or PaintingModel(image)).select(mask, paint, self.min_area)
        if self.points_out:
            outs = np.array(self.points_out)
            mask = _without_regions(mask, lambda labels, n: np.isin(
                np.arange(n), labels[outs[:, 1], outs[:, 0]]))
        return full_size(mask, (height, width), self.grow)


# --- a click: the loss under it -------------------------------------------------------------

CLICK_TOLERANCE = 10.0  # Lab distance from the clicked colour that the first region grows over
# ... at most: the region is grown at each of these distances in turn and kept at the last one
# before it floods (grows FLOOD times or more at the next step: from the loss into paint of a
# near colour, a pale sky around a flake of gesso); chosen on the tuning manuscripts and gesso
# flakes on the val paintings (docs/detection.md)
TOLERANCES = (4.5, 6.5, CLICK_TOLERANCE)
FLOOD = 6.0
REACH = 4  # pixels of the crop beyond that region GrabCut may add to it (the loss's soft rim)
CLICK_MARGIN = 2    # pixels (of the crop analysed) added around a clicked loss, as restorers draw
WORK_SIDE = 400     # a click's crop is analysed at most this many pixels on a side


def _without_regions(mask, drop):
    """mask without its 8-connected regions for which drop(labels, count) is True (by label)."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    dropped = drop(labels, count)
    dropped[0] = False
    return mask & ~dropped[labels]


def select_at(image, point, points_out=(), start=96, max_side=2048):
    """The loss under point (x, y) of a painting (any samples): bool (H, W). It is segmented
    on a crop around the point, shrunk to at most WORK_SIDE pixels; while it touches the crop's
    border (a loss larger than the crop) the crop doubles, up to max_side pixels."""
    height, width = image.shape[:2]
    x, y = point
    half = start // 2
    while True:
        x0, y0 = max(0, x - half), max(0, y - half)
        x1, y1 = min(width, x + half + 1), min(height, y + half + 1)
        crop = to_rgb8(image[y0:y1, x0:x1])
        scale = min(1.0, WORK_SIDE / max(crop.shape[:2]))
        if scale < 1.0:
            crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)),
                                     max(1, round(crop.shape[0] * scale))),
                              interpolation=cv2.INTER_AREA)

        def here(px, py):
            return (min(int((px - x0) * scale), crop.shape[1] - 1),
                    min(int((py - y0) * scale), crop.shape[0] - 1))
        outs = [here(ox, oy) for ox, oy in points_out if x0 <= ox < x1 and y0 <= oy < y1]
        found = _segment(crop, here(x, y), outs)
        whole = x0 == 0 and y0 == 0 and x1 == width and y1 == height
        touches = ((found[0].any() and y0 > 0) or (found[-1].any() and y1 < height) or
                   (found[:, 0].any() and x0 > 0) or (found[:, -1].any() and x1 < width))
        if not touches or whole or 2 * half + 1 >= max_side:
            break
        half *= 2
    margin = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * CLICK_MARGIN + 1,) * 2)
    found = cv2.dilate(found.view(np.uint8), margin)
    if scale < 1.0:
        found = cv2.resize(found, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    mask = np.zeros((height, width), bool)
    mask[y0:y1, x0:x1] = found > 0
    return mask


def _segment(rgb8, point, outs, iterations=3):
    """The clicked loss in a crop: the pixels of the clicked colour connected to the click (at
    the largest of TOLERANCES in Lab before they flood), refined by GrabCut (a colour model of
    the loss against the paint around it, and a cut that follows the edges) within REACH
    pixels of them, the part connected to the click."""
    cx, cy = point
    smooth = cv2.GaussianBlur(rgb8, (0, 0), 1.0)
    lab = cv2.cvtColor(smooth.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    colour = np.median(lab[max(0, cy - 2):cy + 3, max(0, cx - 2):cx + 3].reshape(-1, 3), axis=0)
    distance = np.linalg.norm(lab - colour, axis=-1)
    distance[cy, cx] = 0  # the click is in its region, however grainy the loss
    region, tolerance = _stable_region(distance, cx, cy)
    core = cv2.erode(region.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * REACH + 1,) * 2)
    cut = np.full(rgb8.shape[:2], cv2.GC_BGD, np.uint8)  # beyond the reach: never the loss
    cut[cv2.dilate(region.view(np.uint8), reach) > 0] = cv2.GC_PR_BGD
    cut[region] = cv2.GC_PR_FGD
    cut[core & (distance < tolerance / 2)] = cv2.GC_FGD
    cv2.circle(cut, (cx, cy), 2, int(cv2.GC_FGD), -1)
    for ox, oy in outs:
        cv2.circle(cut, (ox, oy), 3, int(cv2.GC_BGD), -1)
    if np.count_nonzero((cut == cv2.GC_PR_BGD) | (cut == cv2.GC_BGD)) < 20:
        return region  # nothing around the loss in the crop to tell it from
    background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(np.ascontiguousarray(smooth), cut, None, background, foreground, iterations,
                cv2.GC_INIT_WITH_MASK)
    chosen = ((cut == cv2.GC_FGD) | (cut == cv2.GC_PR_FGD)).view(np.uint8)
    if not chosen[cy, cx]:  # a shift-click on the click itself: nothing is a loss here
        return np.zeros(chosen.shape, bool)
    _, labels = cv2.connectedComponents(chosen, connectivity=8)
    return labels == labels[cy, cx]


def _stable_region(distance, cx, cy):
    """(the pixels within a tolerance of the clicked colour connected to the click, that
    tolerance): the region at each of TOLERANCES in turn, kept at the last before it floods."""
    region, tolerance = None, TOLERANCES[0]
    for step in TOLERANCES:
        _, labels = cv2.connectedComponents((distance < step).view(np.uint8), connectivity=4)
        wider = labels == labels[cy, cx]
        if region is not None and np.count_nonzero(wider) >= FLOOD * np.count_nonzero(region):
            break
        region, tolerance = wider, step
    return region, tolerance


# --- scores ---------------------------------------------------------------------------------

def detection_scores(predicted, truth, tolerance=0):
    """Pixel precision, recall, F1 and IoU of a predicted mask against the true one. With a
    tolerance (pixels), a found pixel within it of a true one counts as right, and a true pixel
    within it of a found one as found (hand-drawn masks are generous at their edges)."""
    predicted, truth = np.asarray(predicted) > 0.5, np.asarray(truth) > 0.5
    tp = int(np.sum(predicted & truth))
    fp = int(np.sum(predicted & ~truth))
    fn = int(np.sum(~predicted & truth))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    iou = tp / (tp + fp + fn) if tp + fp + fn else 1.0
    scores = {"precision": precision, "recall": recall, "f1": f1, "iou": iou,
              "tp": tp, "fp": fp, "fn": fn}
    if tolerance:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance + 1,) * 2)
        near_truth = cv2.dilate(truth.view(np.uint8), disc) > 0
        near_found = cv2.dilate(predicted.view(np.uint8), disc) > 0
        right = int(np.sum(predicted & near_truth))
        found = int(np.sum(truth & near_found))
        scores.update(tol_precision=right / predicted.sum() if predicted.any() else 1.0,
                      tol_recall=found / truth.sum() if truth.any() else 1.0,
                      tol_right=right, tol_found=found)
        p, r = scores["tol_precision"], scores["tol_recall"]
        scores["tol_f1"] = 2 * p * r / (p + r) if p + r else 0.0
    return scores


def true_damage(original, damaged, threshold=10 / 255):
    """The ground-truth mask of a damaged copy: pixels where any channel moved by more than
    threshold (the faintest edges of a stroke, under 4% changes, are not counted as damage)."""
    return (np.abs(np.asarray(damaged) - np.asarray(original)).max(axis=-1) > threshold)
