"""Make docs/restore_example.jpg: scikit-image's coffee photograph (not a painting: the shared
paintings are not ours to redistribute) with white flakes, cracks and losses painted on, restored
by restore.py with its defaults.

  python docs/make_restore_example.py && python restore.py runs/demo/coffee_damaged.png -o runs/demo
"""
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from skimage.data import coffee  # noqa: E402

from utils.images import save_image  # noqa: E402
from utils.masks import Blobs, Holes, damage  # noqa: E402

rng = np.random.default_rng(7)
image = coffee().astype(np.float32) / 255.0
height, width = image.shape[:2]
mask = Holes(count=400)((height, width), rng)
for _ in range(6):  # cracks
    points = np.cumsum(rng.integers(-30, 31, (7, 2)), axis=0) + [rng.integers(0, width),
                                                                rng.integers(0, height)]
    cv2.polylines(mask, [points.astype(np.int32)], False, 1.0, 2)
mask = np.maximum(mask, Blobs(count=(2, 3), coverage=(0.04, 0.06))((height, width), rng))
save_image("runs/demo/coffee_damaged.png", damage(image, mask))
print(f"runs/demo/coffee_damaged.png: {mask.mean():.1%} damaged")
