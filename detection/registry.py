"""Every way of finding damage, once: each entry is a method's own callable, which restore.py,
pixel_diff.py and the workbench reach through Detector (detection/detect.py), so a new method is
one entry here. find(detector, image) gives the full-size mask (uint8, 1 = loss) with the
detector's settings (threshold, min_area, grow, its network); probability(detector, image),
where the mask is a threshold of the network's map, gives that map for a slider."""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from detection.learn import PaintingModel
from detection.maps import analysis_copy, clean, full_size, predict_damage, white_rule

# colour: the network's losses above this probability teach the painting's classifier what a
# loss is, and its pixels below SURELY_PAINT what paint is (chosen on the tuning manuscripts)
SEED_PROBABILITY = 0.7
SURELY_PAINT = 0.02


@dataclass(frozen=True)
class Detection:
    name: str
    summary: str               # one line for the tools' --help
    find: Callable             # find(detector, image) -> mask (H, W) uint8
    probability: Callable = None  # probability(detector, image) -> (h, w) map, for a slider
    network: bool = False      # loads the detector network (its file goes in the record)


def network_probability(detector, image):
    """The detector network's probability of loss on the painting's analysed copy."""
    return predict_damage(detector.network(), analysis_copy(image)[0])


def learned(detector, image):
    """The network's losses above the threshold, if the painting is damaged at all."""
    return detector.from_probability(network_probability(detector, image), image.shape[:2])


def colour(detector, image):
    """The network's losses, then every pixel like the losses it is surest of: a classifier of
    this painting's own pixels (detection/learn.py) learned from them against what it is sure
    is paint, as clicks on them would teach it."""
    small, _ = analysis_copy(image)
    probability = predict_damage(detector.network(), small)
    shape = image.shape[:2]
    if not detector.damaged(probability):
        return np.zeros(shape, np.uint8)
    sure = full_size(clean(probability > SEED_PROBABILITY, detector.min_area), shape) > 0
    paint = full_size(probability < SURELY_PAINT, shape) > 0
    found = PaintingModel(image).select(sure, paint, detector.min_area) | sure
    return full_size(found, shape, detector.grow)


def white(detector, image):
    """Near-white marks, at the painting's full resolution."""
    return full_size(white_rule(image, detector.min_area), image.shape[:2], detector.grow)


DETECTIONS = {d.name: d for d in (
    Detection("learned", "the damage detector network (the default)", learned,
              probability=network_probability, network=True),
    Detection("colour", "the network, then every pixel like the losses it is surest of, learned "
                        "from this painting's own pixels (finds more losses, and marks more on "
                        "clean paintings)", colour, network=True),
    Detection("white", "pure-white marks only (the synthetic strokes of benchmarks)", white),
)}


def describe():
    """'name: summary' for each method, for a --help text."""
    return "; ".join(f"{d.name}: {d.summary}" for d in DETECTIONS.values())
