"""Find paint loss automatically: whitish patches that stand out from their surroundings.

Two steps, like hysteresis thresholding:
1. seeds: pixels whose darkest channel is at least `white` (near-white and unsaturated at once:
   exposed ground or a flake's bright edge; painted whites are almost always creamier), in regions
   of at least `min_area` pixels (smaller ones are noise or highlights);
2. growth: each seed region grows by `grow` pixels into neighbours that are brighter than their
   local background (the lightness minus its morphological opening with a disc of
   `background_size` pixels) by more than `contrast`: the blended, half-white edge of a stroke.

Defaults tuned on the Thai murals with synthetic damage (see the README for precision, recall and
IoU), images of a few hundred pixels; for photographs where the losses are wider than
`background_size`, raise it.
"""
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Detector:
    white: float = 0.95          # seeds: the darkest channel at least this (0-1)
    min_area: int = 4            # seeds: smallest region kept, in pixels
    contrast: float = 0.05       # growth: brighter than the local background by this (0-1)
    background_size: int = 11    # growth: diameter of the disc the background is opened with
    grow: int = 1                # growth: pixels a seed region may grow by

    def __call__(self, image):
        """The damage mask (H, W) float32, 1 = missing, of an RGB image in [0, 1]."""
        image = np.asarray(image, np.float32)
        red, green, blue = image[..., 0], image[..., 1], image[..., 2]
        # (elementwise over the three planes: several times faster than reducing the last axis)
        seeds = (np.minimum(np.minimum(red, green), blue) >= self.white).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(seeds, connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= self.min_area
        keep[0] = False  # the background label
        mask = keep[labels].astype(np.uint8)
        if self.grow > 0:
            # 8-bit lightness: the opening runs several times faster, and a step of 1/255 is far
            # finer than any useful contrast
            lightness = ((red + green + blue) * (255.0 / 3.0) + 0.5).astype(np.uint8)
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (self.background_size,) * 2)
            background = cv2.morphologyEx(lightness, cv2.MORPH_OPEN, disc)
            brighter = (lightness.astype(np.int16) - background > 255.0 * self.contrast)
            brighter = brighter.astype(np.uint8)
            step = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
            for _ in range(self.grow):
                mask = cv2.dilate(mask, step) & (brighter | mask)
        return mask.astype(np.float32)


def detection_scores(predicted, truth):
    """Pixel precision, recall, F1 and IoU of a predicted mask against the true one."""
    predicted, truth = np.asarray(predicted) > 0.5, np.asarray(truth) > 0.5
    tp = int(np.sum(predicted & truth))
    fp = int(np.sum(predicted & ~truth))
    fn = int(np.sum(~predicted & truth))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    iou = tp / (tp + fp + fn) if tp + fp + fn else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "iou": iou,
            "tp": tp, "fp": fp, "fn": fn}


def true_damage(original, damaged, threshold=10 / 255):
    """The ground-truth mask of a damaged copy: pixels where any channel moved by more than
    threshold (the faintest edges of a stroke, under 4% changes, are not counted as damage)."""
    return (np.abs(np.asarray(damaged) - np.asarray(original)).max(axis=-1) > threshold)
