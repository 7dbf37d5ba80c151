"""Make the painting of docs/restore_example.jpg: scikit-image's coffee photograph (not a painting:
the shared paintings are not ours to redistribute) with synthetic paint loss of realistic
appearance (training/paint_loss.py: pale grounds, soft edges), then restore it with restore.py's
defaults and score the detected mask against the true one.

  python docs/make_restore_example.py
"""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from skimage.data import coffee  # noqa: E402

from detection.detect import detection_scores  # noqa: E402
from utils.images import save_image  # noqa: E402
from training.paint_loss import PaintLoss  # noqa: E402

out = ROOT / "runs" / "demo"
image = coffee().astype(np.float32) / 255.0
damaged, truth = PaintLoss(clean=0.0, events=(3, 3))(image, np.random.default_rng(11))
save_image(out / "coffee_damaged.png", damaged)
print(f"{out / 'coffee_damaged.png'}: {truth.mean():.1%} damaged")
subprocess.run([sys.executable, str(ROOT / "restore.py"), str(out / "coffee_damaged.png"), "-o",
                str(out)], check=True)
found = cv2.imread(str(out / "coffee_damaged_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
s = detection_scores(found, truth, tolerance=3)
print(f"detection: precision {s['precision']:.2f}, recall {s['recall']:.2f}, F1 {s['f1']:.2f} "
      f"(with a 3-pixel tolerance {s['tol_f1']:.2f})")
print(f"figure: {out / 'coffee_damaged_figure.jpg'} (copy it to docs/restore_example.jpg)")
