"""Learning one painting's losses from the restorer's own marks: clicks on losses and brush
strokes over them are examples of loss; shift-clicks (--point-out) and eraser strokes are
examples of paint. A classifier of this painting's pixels is fitted on them and applied to the
whole painting, so that a few marks select every loss like them and nothing like the paint
pointed out, and each correction is one more example (in the spirit of ilastik's interactive
pixel classification; no model is trained across paintings, where the media differ too much).

Each pixel is described at several scales (FEATURE_SIGMAS): its colour in Lab and its chroma;
the colour smoothed around it; how much lighter it is than the paint around it; the gradient,
the Laplacian and the local spread of the lightness (texture). The classifier is an ensemble of
extremely randomised trees (scikit-learn's ExtraTreesClassifier: the fastest of the forests
tried, and the best on the tuning pages, docs/detection.md), fitted on the marked pixels
against pixels drawn at random from the rest of the painting: most of a painting is paint, so
those are mostly paint; the few losses among them are found by a first fit and left out of the
second. The painting is analysed at most LEARN_SIDE pixels on its longest side and the
probability computed on every second pixel of that, then enlarged: a fit and a new mask in
about a second on a 1600-px painting (the features, once per painting, take longer).
"""
from functools import lru_cache

import cv2
import numpy as np

from detection.maps import (AUTOMATIC_MARGIN, DETAIL_SIDE, Copies, clean, full_size, grown,
                            trim_rims)

LEARN_SIDE = DETAIL_SIDE  # the copy analysed (the network's detail copy): at most this
#                          many pixels on its longest side
FEATURE_SIGMAS = (1, 2, 4, 8, 16)  # pixels of that copy
LOSS_SAMPLES = 4000    # marked loss pixels the classifier is fitted on, at most
PAINT_SAMPLES = 16000  # pixels drawn at random from the unmarked painting
MARKED_PAINT = 8000    # pixels marked as paint, at most
CLEAR = 5              # pixels around a marked loss from which no random paint is drawn
THRESHOLD = 0.5        # probability of loss above which a pixel is selected
PRUNE = 0.3            # random paint this like the marked losses (by colour) is left out
LOCAL_FEATURES = 4 + 2 * 7  # the pixel's own colour and the two finest scales
TREES = 40             # in the forest that says what is a loss
PRUNING_TREES = 20     # in the first, which only finds the losses among the random paint


def pixel_features(rgb8):
    """(h, w, 39) float32: each pixel's Lab colour and chroma, and at each scale of
    FEATURE_SIGMAS the smoothed colour, the lightness against its surround, the gradient, the
    Laplacian and the local spread of the lightness. Stored plane by plane (a view of (39, h, w)):
    interleaving the planes pixel by pixel took half the time on a 1600-px painting."""
    lab = cv2.cvtColor(rgb8.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    out = np.empty((4 + 7 * len(FEATURE_SIGMAS),) + lab.shape[:2], np.float32)
    cv2.split(lab, out[:3])
    del lab
    lightness = out[0]
    np.hypot(out[1], out[2], out=out[3])
    square = lightness * lightness
    plane = 4
    for sigma in FEATURE_SIGMAS:
        for channel in range(3):  # each plane blurred where it is kept
            cv2.GaussianBlur(out[channel], (0, 0), sigma, dst=out[plane + channel])
        light = out[plane]
        np.subtract(lightness, light, out=out[plane + 3])
        np.hypot(cv2.Sobel(light, cv2.CV_32F, 1, 0), cv2.Sobel(light, cv2.CV_32F, 0, 1),
                 out=out[plane + 4])
        out[plane + 5] = cv2.Laplacian(light, cv2.CV_32F)
        spread = cv2.GaussianBlur(square, (0, 0), sigma) - light * light
        np.sqrt(np.maximum(spread, 0, out=spread), out=out[plane + 6])
        plane += 7
    return np.moveaxis(out, 0, -1)


class PaintingModel:
    """One painting's pixels, described once (pixel_features on its analysed copy), and the
    classifier fitted on the marks made on it. copies: the painting's maps.Copies, when the
    caller has them."""

    def __init__(self, image, side=LEARN_SIDE, copies=None):
        self.copies = copies or Copies(image)
        small, self.scale = self.copies(side)
        self.shape = self.copies.image.shape[:2]
        self.small_shape = small.shape[:2]
        self.features = pixel_features(small)

    def to_copy(self, mask):
        """A full-size mask (H, W) on the analysed copy: a copy's pixel is marked if most of
        the pixels it covers are (or, for a mark thinner than a pixel of the copy, any is)."""
        mask = np.asarray(mask, bool)
        if mask.shape == self.small_shape:
            return mask
        size = (self.small_shape[1], self.small_shape[0])
        share = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        thin = cv2.resize(mask.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        return (share >= 0.5) | thin

    def probability(self, losses, paint=None, seed=0, where=None):
        """The probability of loss (h, w) float32 on the analysed copy, from a classifier
        fitted on losses and paint (full-size or copy-size bool masks of marked pixels); with
        where (a copy-size bool mask), exact only there (0 far from it), in less time."""
        from sklearn.ensemble import ExtraTreesClassifier
        rng = np.random.default_rng(seed)
        losses = self.to_copy(losses)
        paint = np.zeros(self.small_shape, bool) if paint is None else self.to_copy(paint)
        paint &= ~losses
        flat = self.features.reshape(-1, self.features.shape[-1])
        positive = _sample(np.flatnonzero(losses), LOSS_SAMPLES, rng)
        if not len(positive):
            return np.zeros(self.small_shape, np.float32)
        near = cv2.dilate(losses.view(np.uint8), np.ones((2 * CLEAR + 1,) * 2, np.uint8)) > 0
        drawn = _sample(np.flatnonzero(~(near | paint)), PAINT_SAMPLES, rng)
        marked = _sample(np.flatnonzero(paint), MARKED_PAINT, rng)
        # Unmarked losses among the random paint would teach the forest that they are paint:
        # a first forest on each pixel's own colour and fine texture alone (no surround, which
        # differs from loss to loss) finds those like the marked losses, and they are left out.
        local = slice(0, LOCAL_FEATURES)
        for features in (local, slice(None)):
            negative = np.concatenate([drawn, marked])
            X = flat[np.concatenate([positive, negative]), features]
            y = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
            weight = np.r_[np.full(len(positive), len(negative) / len(positive)),
                           np.ones(len(negative))]  # the classes weigh the same
            trees = PRUNING_TREES if features is local else TREES
            forest = ExtraTreesClassifier(trees, max_depth=12, min_samples_leaf=3, n_jobs=-1,
                                          random_state=seed).fit(X, y, sample_weight=weight)
            if features is local and len(drawn):
                drawn = drawn[forest.predict_proba(flat[drawn, local])[:, 1] < PRUNE]
        half = self.features[::2, ::2]
        p = np.zeros(half.shape[:2], np.float32)
        # the half-size pixels each wanted pixel is interpolated from: where, widened by a
        # pixel of the half-size grid (two of the copy's) and read at every second pixel
        wanted = np.ones(p.shape, bool) if where is None else cv2.dilate(
            where.view(np.uint8), np.ones((5, 5), np.uint8))[::2, ::2] > 0
        if wanted.any():
            p[wanted] = forest.predict_proba(half[wanted])[:, 1]
        return cv2.resize(p, (self.small_shape[1], self.small_shape[0]),
                          interpolation=cv2.INTER_LINEAR)

    def select(self, losses, paint=None, min_area=4, seed=0, margin=AUTOMATIC_MARGIN):
        """Every loss like the marked ones and unlike the marked paint: bool (H, W). On a copy
        smaller than the painting, each loss's rim is decided at the painting's resolution
        (maps.trim_rims) and margin pixels added around it (the soft edge a loss leaves in a
        photograph), as the automatic methods' masks get them; 0 for a caller that adds its
        own."""
        found = clean(self.probability(losses, paint, seed) > THRESHOLD, min_area)
        mask = full_size(found, self.shape)
        if self.scale < 1:
            mask = grown(trim_rims(mask, found, self.copies.image, copies=self.copies), margin)
        return mask.astype(bool)


@lru_cache(maxsize=None)
def warm_up():
    """The classifier's start-up, paid before a painting is timed: scikit-learn's import (0.3 s
    the first time), its threads' and OpenCV's first calls (the features of the first 1,600-px
    painting took 0.5 s more without them), on a small made-up painting; once a process."""
    image = np.zeros((48, 64, 3), np.uint8)
    image[16:32, 16:40] = 230
    losses = np.zeros(image.shape[:2], bool)
    losses[20:28, 20:36] = True
    PaintingModel(image).probability(losses)


def _sample(indices, count, rng):
    if len(indices) <= count:
        return indices
    return rng.choice(indices, count, replace=False)
