"""Make docs/large_fill_example.jpg: one large loss in scikit-image's cat photograph (not a
painting: the shared paintings are not ours to redistribute; its fur is the kind of fine texture
a smooth fill loses), filled by each method at full resolution, every pixel shown at its own
size, with each fill's hole PSNR and sharpness.

  python docs/make_fill_example.py
"""
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from utils import env  # noqa: E402

env.prepare()  # TensorFlow's environment, as the scripts set it
from skimage.data import chelsea  # noqa: E402

from models.loading import load_inpainting_model  # noqa: E402
from utils.masks import damage  # noqa: E402
from utils.metrics import hole_psnr, hole_sharpness  # noqa: E402
from utils.plotting import image_grid  # noqa: E402
from filling.fill import restore_image  # noqa: E402

METHODS = ("telea", "fsr", "patchmatch", "auto", "textured")

image = chelsea().astype(np.float32) / 255.0
mask = np.zeros(image.shape[:2], np.uint8)
for (x, y), (a, b), angle in (((150, 210), (38, 24), 20), ((178, 240), (30, 22), -30),
                               ((130, 245), (22, 16), 60)):  # an irregular flake, 70 x 100 px
    cv2.ellipse(mask, (x, y), (a, b), angle, 0, 360, 1, -1)
mask = mask.astype(np.float32)
damaged = damage(image, mask)
model = load_inpainting_model(ROOT / "pretrained" / "context_encoder.keras")
fills = {method: restore_image(damaged, mask, method, model) for method in METHODS}
for method, filled in fills.items():
    print(f"{method:10s} hole PSNR {hole_psnr(filled, image, mask):5.2f} dB, sharpness "
          f"{hole_sharpness(filled, image, mask):.2f}")

rows, cols = np.nonzero(mask)
crop = (slice(rows.min() - 30, rows.max() + 30), slice(cols.min() - 30, cols.max() + 30))
panels = [damaged[crop], *(fills[m][crop] for m in METHODS), image[crop]]
out = ROOT / "docs" / "large_fill_example.png"
image_grid([panels], ["damaged", *METHODS, "original"], out, max_width=None)
cv2.imwrite(str(out.with_suffix(".jpg")), cv2.imread(str(out)), [cv2.IMWRITE_JPEG_QUALITY, 92])
out.unlink()
print(f"wrote {out.with_suffix('.jpg')}")
