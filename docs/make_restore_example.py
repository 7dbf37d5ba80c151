"""Make docs/restore_example.jpg: the first run (demo.py: samples/vinckboons-iudea.jpg with
flaked paint made by samples/losses.py, restored with restore.py's defaults), as a detail at 1:1
(every pixel the painting's own): damaged, the mask found (magenta: true loss found; cyan: missed;
orange: intact paint marked), restored, and the painting before the damage. Prints the scores.

  python docs/make_restore_example.py
"""
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from samples.first_run import SAMPLE, TRUTH  # noqa: E402
from utils.images import read_image, save_image  # noqa: E402

BOX = (150, 40, 470, 420)  # the detail shown: top, left, bottom, right (the city and its sky)


def main():
    out = ROOT / "runs" / "demo"
    subprocess.run([sys.executable, str(ROOT / "demo.py"), "--out", str(out)], check=True)
    stem = "iudea_damaged"
    damaged = read_image(out / f"{stem}.png")
    restored = read_image(out / "restored" / f"{stem}_restored.png")
    found, truth = (read_image(path)[..., 0] > 0.5 for path in (
        out / "restored" / f"{stem}_mask.png", TRUTH))
    original = read_image(SAMPLE)
    shown = damaged.copy()
    shown[found & truth] = (1.0, 0.0, 1.0)
    shown[truth & ~found] = (0.0, 1.0, 1.0)
    shown[found & ~truth] = (1.0, 0.6, 0.0)
    top, left, bottom, right = BOX
    gap = np.ones((bottom - top, 6, 3), np.float32)
    panels = [image[top:bottom, left:right] for image in (damaged, shown, restored, original)]
    figure = np.concatenate([part for panel in panels for part in (panel, gap)][:-1], axis=1)
    save_image(ROOT / "docs" / "restore_example.jpg", figure)
    print("wrote docs/restore_example.jpg: damaged | mask found | restored | before the damage")


if __name__ == "__main__":
    main()
