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

from utils.images import UserError, to_uint8


@dataclass
class Detector:
    white: float = 0.95          # seeds: the darkest channel at least this (0-1)
    min_area: int = 4            # seeds: smallest region kept, in pixels
    contrast: float = 0.05       # growth: brighter than the local background by this (0-1)
    background_size: int = 11    # growth: diameter of the disc the background is opened with
    grow: int = 1                # growth: pixels a seed region may grow by

    def __post_init__(self):
        checks = {"white": 0 < self.white <= 1, "min_area": self.min_area >= 1,
                  "contrast": 0 <= self.contrast <= 1, "grow": self.grow >= 0,
                  "background_size": self.background_size >= 3}
        ranges = {"white": "in (0, 1]", "min_area": "at least 1", "contrast": "in [0, 1]",
                  "grow": "at least 0", "background_size": "at least 3 pixels"}
        for name, ok in checks.items():
            if not ok:
                raise UserError(f"--{name.replace('_', '-')} {getattr(self, name)}: must be "
                                f"{ranges[name]}")

    def __call__(self, image):
        """The damage mask (H, W) uint8, 1 = missing, of an image (H, W, 1 or 3) of 8- or
        16-bit samples or floats in [0, 1]. It works on 8-bit planes made strip by strip, so a
        large scan needs a few bytes per pixel."""
        darkest, lightness = planes(np.asarray(image))
        seeds = (darkest >= self.white * 255.0 - 0.5).view(np.uint8)
        del darkest
        count, labels, stats, _ = cv2.connectedComponentsWithStats(seeds, connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= self.min_area
        keep[0] = False  # the background label
        mask = keep.view(np.uint8)[labels]
        del labels, seeds
        if self.grow > 0:
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (self.background_size,) * 2)
            background = cv2.morphologyEx(lightness, cv2.MORPH_OPEN, disc)
            # (saturating 8-bit subtraction: a step of 1/255 is far finer than any contrast)
            brighter = (cv2.subtract(lightness, background) > 255.0 * self.contrast).view(np.uint8)
            del background
            step = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
            for _ in range(self.grow):
                mask = cv2.dilate(mask, step) & (brighter | mask)
        return mask


def planes(image, rows=512):
    """The darkest channel and the lightness (mean of the channels) as 8-bit planes (H, W)."""
    height, width = image.shape[:2]
    darkest = np.empty((height, width), np.uint8)
    lightness = np.empty((height, width), np.uint8)
    for top in range(0, height, rows):
        block = image[top:top + rows]
        block = block[..., None] if block.ndim == 2 else block
        if block.dtype == np.uint16:
            block = ((block.astype(np.uint32) + 128) // 257).astype(np.uint8)
        elif block.dtype != np.uint8:
            block = to_uint8(block)
        # (elementwise over the planes: several times faster than reducing the last axis)
        low, total = block[..., 0], block[..., 0].astype(np.uint16)
        for channel in range(1, block.shape[2]):
            low = np.minimum(low, block[..., channel])
            total += block[..., channel]
        darkest[top:top + rows] = low
        lightness[top:top + rows] = (total + block.shape[2] // 2) // block.shape[2]
    return darkest, lightness


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
