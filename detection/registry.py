"""Every way of finding damage, once: each entry is a method's own callable, which restore.py,
pixel_diff.py and the workbench reach through Detector (detection/detect.py), so a new method is
one entry here. find(detector, image) gives the full-size mask (uint8, 1 = loss) with the
detector's settings (threshold, min_area, grow, its network); probability(detector, image),
where the mask is a threshold of the network's map, gives that map for a slider."""
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from detection.learn import PaintingModel
from detection.maps import (AUTOMATIC_MARGIN, DETAIL_FROM, Copies, clean, full_size,
                            predict_damage, trim_rims, white_rule)

# colour: the network's losses above this probability teach the painting's classifier what a
# loss is, and its pixels below SURELY_PAINT what paint is (chosen on the tuning manuscripts)
SEED_PROBABILITY = 0.7
SURELY_PAINT = 0.02
# auto: the painting's classifier learns from the network's surest losses only where those
# cover at least this share of the analysed copy (a damaged painting; on a clean one the
# network's few sure pixels are false alarms, which it would spread), and a pixel is a loss
# where its probability passes CLASSIFIER_CUT (both chosen on the three tuning manuscripts
# and the val paintings: docs/detection.md)
BOOTSTRAP_SHARE = 0.03
CLASSIFIER_CUT = 0.6
# ... and never where the network gives a pixel less than this: the classifier spreads the
# network's sure losses to everything of their colour, which on a mural whose painted ground is
# as pale as a loss is the whole ground (mural-real-167: 14.0% marked with no floor, 9.4% with
# it; a clean pen drawing 29.0% and 14.6%) at a cost of 0.006 in F1 on the tuning manuscripts
PLAUSIBLE = 0.01


@dataclass(frozen=True)
class Detection:
    name: str
    summary: str               # one line for the tools' --help
    find: Callable             # find(detector, image) -> mask (H, W) uint8
    probability: Callable = None  # probability(detector, image) -> (h, w) map, for a slider
    network: bool = False      # loads the detector network (its file goes in the record)
    classifier: bool = False   # fits a classifier of the painting's pixels (learn.py)
    specks: bool = False       # adds the pale specks at the painting's resolution (specks.py)


def network_probability(detector, image, copies=None):
    """The detector network's probability of loss, on the painting's detail copy (at most
    detector.detail_side pixels a side; 0: its own size): the larger of what the network sees
    there (flakes a few pixels wide, read in tiles) and on the coarse copy (ANALYSIS_SIDE: wide
    losses seen whole, with the paint around them), enlarged; the coarse copy's alone where the
    detail copy would be under DETAIL_FROM pixels a side. copies: the painting's maps.Copies,
    when the caller reads them again."""
    network = detector.network()
    copies = copies or Copies(image)
    coarse = predict_damage(network, copies()[0])
    side = min(detector.detail_side or max(image.shape[:2]), max(image.shape[:2]))
    if side < DETAIL_FROM:
        return coarse
    probability = predict_damage(network, copies(side)[0])
    size = probability.shape[::-1]
    return np.maximum(probability, cv2.resize(coarse, size, interpolation=cv2.INTER_LINEAR),
                      out=probability)


def learned(detector, image):
    """The network's losses above the threshold, if the painting is damaged at all."""
    copies = Copies(image)
    return detector.from_probability(network_probability(detector, image, copies),
                                     image.shape[:2], image=image, copies=copies)


def on_network_scale(q, threshold):
    """The classifier's probability q on the network's scale: CLASSIFIER_CUT goes to the
    detector's threshold, 0 to 0 and 1 to 1, linearly between, so that one threshold (the
    slider's) moves both along their curves."""
    q = np.asarray(q, np.float32)
    low = q * (threshold / CLASSIFIER_CUT)
    high = threshold + (q - CLASSIFIER_CUT) * ((1 - threshold) / (1 - CLASSIFIER_CUT))
    return np.where(q <= CLASSIFIER_CUT, low, high).astype(np.float32)


def auto_probability(detector, image, copies=None):
    """The network's probability of loss; on a painting where its sure losses cover at least
    BOOTSTRAP_SHARE, the larger of it and the probability from a classifier of this painting's
    own pixels (detection/learn.py) learned from those losses against what the network is sure
    is paint, as clicks on them would teach it; on the classifier's copy of the painting (at
    most LEARN_SIDE pixels a side), where flakes the network's copy blurs are still seen.
    copies: the painting's maps.Copies, when the caller reads them again."""
    copies = copies or Copies(image)
    probability = network_probability(detector, image, copies)
    sure = clean(probability > SEED_PROBABILITY, detector.min_area)
    # a painting the network alone judges undamaged is never taught (a pen drawing's pale
    # paper passed the share, and the classifier spread it to 14% of the drawing)
    if sure.mean() < BOOTSTRAP_SHARE or not detector.damaged(probability):
        return probability
    model = PaintingModel(image, copies=copies)
    copy = model.small_shape
    sure, paint = full_size(sure, copy) > 0, full_size(probability < SURELY_PAINT, copy) > 0
    probability = cv2.resize(probability, (copy[1], copy[0]), interpolation=cv2.INTER_LINEAR)
    # the classifier is asked only where its answer is kept (the same map, in less time)
    q = model.probability(sure, paint, where=probability > PLAUSIBLE)
    q = np.where(probability > PLAUSIBLE, on_network_scale(q, detector.threshold), 0)
    return np.maximum(probability, q)


def auto(detector, image):
    """auto_probability above the threshold, if the painting is damaged at all."""
    copies = Copies(image)
    return detector.from_probability(auto_probability(detector, image, copies),
                                     image.shape[:2], image=image, copies=copies)


def colour(detector, image):
    """The network's losses, then every pixel like the losses it is surest of: a classifier of
    this painting's own pixels (detection/learn.py) learned from them against what it is sure
    is paint, as clicks on them would teach it."""
    copies = Copies(image)
    probability = network_probability(detector, image, copies)
    shape = image.shape[:2]
    if not detector.damaged(probability):
        return np.zeros(shape, np.uint8)
    seeds = clean(probability > SEED_PROBABILITY, detector.min_area)
    sure = trim_rims(full_size(seeds, shape), seeds, image, copies=copies) > 0
    paint = full_size(probability < SURELY_PAINT, shape) > 0
    found = PaintingModel(image, copies=copies).select(sure, paint, detector.min_area,
                                                       margin=0) | sure
    return full_size(found, shape, detector.grow + AUTOMATIC_MARGIN)


def white(detector, image):
    """Near-white marks, at the painting's full resolution."""
    return full_size(white_rule(image, detector.min_area), image.shape[:2], detector.grow)


DETECTIONS = {d.name: d for d in (
    Detection("auto", "the damage detector network; on a clearly damaged painting also every "
                      "pixel like its surest losses, learned from the painting's own pixels; "
                      "and many pale specks, at full size (the default)", auto,
              probability=auto_probability, network=True, classifier=True, specks=True),
    Detection("learned", "the damage detector network alone", learned,
              probability=network_probability, network=True),
    Detection("colour", "the network, then every pixel like the losses it is surest of, learned "
                        "from this painting's own pixels (finds more losses, and marks more on "
                        "clean paintings)", colour, network=True, classifier=True),
    Detection("white", "pure-white marks only (the synthetic strokes of benchmarks)", white),
)}


def describe():
    """'name: summary' for each method, for a --help text."""
    return "; ".join(f"{d.name}: {d.summary}" for d in DETECTIONS.values())
