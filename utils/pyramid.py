"""A painting's pixels at 1:1, 1:2, 1:4, ... for zoomed views (the workbench's page and
pixel_diff.py's window): a view is cut from the level just finer than the screen, so that its
cost follows the screen's size, not the scan's."""
import threading

import cv2
import numpy as np

MAX_REGION_PIXELS = 4096 * 4096  # the most pixels one zoomed view is cut from


def rgb8(pixels):
    """8-bit RGB of a painting's samples (gray, RGB, with or without alpha; 8 or 16 bits)."""
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    if pixels.dtype == np.uint16:  # v / 257, rounded, with no wider copy
        pixels = cv2.convertScaleAbs(pixels, alpha=1 / 257)
        pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    return np.repeat(pixels[..., :1], 3, axis=2) if pixels.shape[2] < 3 else pixels[..., :3]


class ViewPyramid:
    """A painting's pixels at 1:1 (its own samples) and at 1:2, 1:4, ... (8-bit RGB, each level
    half the one before, built once, on first use): a zoomed view is cut from the level just
    finer than the screen, so that its cost follows the screen's size, not the scan's."""

    def __init__(self, pixels, marks=False):
        """pixels: a painting's samples, or with marks a mask (H, W) bool: then a coarser
        pixel is marked (255) if any of those it covers is."""
        self.pixels, self.marks = pixels, marks
        self.levels = {}
        self.lock = threading.Lock()

    def _eight_bit(self, pixels):
        return pixels.astype(np.uint8) * np.uint8(255) if self.marks else rgb8(pixels)

    def _smaller(self, pixels, size, area=True):
        """pixels at size (w, h); not area: bilinear, for a picture shrunk by less than half
        (the levels took the rest): 2 ms where INTER_AREA takes 13 at a fractional scale. A
        mask is always area-averaged, so that no marked pixel is lost."""
        area = area or self.marks
        small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA if area else
                           cv2.INTER_LINEAR)
        return np.where(small > 0, np.uint8(255), np.uint8(0)) if self.marks else small

    def level(self, k):
        """The painting at 1:2**k (k >= 1), (H', W', 3) uint8 (marks: (H', W'))."""
        with self.lock:
            for depth in range(1, k + 1):
                if depth not in self.levels:
                    source = self.pixels if depth == 1 else self.levels[depth - 1]
                    height, width = source.shape[:2]
                    size = (max(1, (width + 1) // 2), max(1, (height + 1) // 2))
                    half = self._smaller(self._eight_bit(source) if depth == 1 else source,
                                         size)
                    self.levels[depth] = np.ascontiguousarray(half)
            return self.levels[k]

    def build(self, down_to):
        """Every level down to about down_to pixels on the longest side (in a thread, so that
        the first zoom does not wait)."""
        k = 1
        while max(self.pixels.shape[:2]) / 2 ** k >= down_to:
            self.level(k)
            k += 1

    def region(self, x0, y0, x1, y1, width):
        """(8-bit RGB of the painting's pixels [y0:y1, x0:x1] at about width pixels wide, never
        wider than the painting's own pixels; the rectangle (x0, y0, x1, y1) it covers, in the
        painting's pixels: a coarser level covers whole pixels of its own)."""
        k = 0
        while 2 ** (k + 1) <= max(x1 - x0, y1 - y0) and (
                (x1 - x0) / 2 ** (k + 1) >= width  # finer than asked
                or (x1 - x0) * (y1 - y0) / 4 ** k > MAX_REGION_PIXELS):  # or too many pixels
            k += 1
        if k == 0:
            part = self._eight_bit(self.pixels[y0:y1, x0:x1])
        else:
            f = 2 ** k
            level = self.level(k)
            part = level[y0 // f:-(-y1 // f), x0 // f:-(-x1 // f)]
            height, width_full = self.pixels.shape[:2]
            x0, y0 = x0 // f * f, y0 // f * f
            x1, y1 = min(width_full, -(-x1 // f) * f), min(height, -(-y1 // f) * f)
        if part.shape[1] > width:
            size = (width, max(1, round(part.shape[0] * width / part.shape[1])))
            part = self._smaller(part, size, area=part.shape[1] >= 2 * width)
        return part, (x0, y0, x1, y1)
