"""Measure damage detection against known masks: the Thai murals of ../shared/data/damaged, each a
-toinpaint copy with white strokes beside its -original (their difference is the true mask).

Prints pixel precision, recall, F1 and IoU per mural and over all of them, for the default
detector, then how F1 moves when each setting alone is changed (how sharp the tuning is). Writes
an overlay figure (found in magenta, missed in cyan) to --out.

examples:
  python bench/bench_detection.py
  python bench/bench_detection.py --data ~/my_pairs --out runs/detection
"""
import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.detect import Detector, detection_scores, true_damage  # noqa: E402
from utils.images import read_image  # noqa: E402
from utils.plotting import image_grid  # noqa: E402

VARIATIONS = {"white": (0.9, 0.98), "min_area": (1, 10), "contrast": (0.02, 0.1),
              "background_size": (7, 15), "grow": (0, 2)}


def pairs(folder):
    """[(name, damaged, true mask)] for every NAME-toinpaint.png beside a NAME-original.png."""
    found = []
    for damaged_path in sorted(Path(folder).glob("*-toinpaint.png")):
        original_path = damaged_path.with_name(damaged_path.name.replace("-toinpaint",
                                                                          "-original"))
        if original_path.exists():
            damaged = read_image(damaged_path)
            found.append((damaged_path.name.removesuffix("-toinpaint.png"), damaged,
                          true_damage(read_image(original_path), damaged)))
    return found


def total(detector, cases):
    counts = np.sum([[s["tp"], s["fp"], s["fn"]] for s in
                     (detection_scores(detector(d), t) for _, d, t in cases)], axis=0)
    tp, fp, fn = (int(c) for c in counts)
    return {"precision": tp / (tp + fp), "recall": tp / (tp + fn),
            "f1": 2 * tp / (2 * tp + fp + fn), "iou": tp / (tp + fp + fn)}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "damaged"))
    p.add_argument("--out", default="runs/detection", help="folder for the overlay figure")
    args = p.parse_args()
    cases = pairs(args.data)
    if not cases:
        sys.exit(f"no NAME-toinpaint.png / NAME-original.png pairs in {args.data}")
    detector = Detector()
    print(f"detector: {detector}\n")
    print("| painting | precision | recall | F1 | IoU | true mask |\n|---|---|---|---|---|---|")
    rows = []
    for name, damaged, truth in cases:
        found = detector(damaged) > 0
        s = detection_scores(found, truth)
        print(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
              f"{s['iou']:.3f} | {truth.mean():.1%} |")
        overlay = damaged.copy()
        overlay[found & truth] = (1.0, 0.0, 1.0)
        overlay[~found & truth] = (0.0, 1.0, 1.0)
        overlay[found & ~truth] = (1.0, 0.6, 0.0)
        rows.append([damaged, overlay])
    s = total(detector, cases)
    print(f"| **all pixels** | {s['precision']:.3f} | {s['recall']:.3f} | **{s['f1']:.3f}** | "
          f"{s['iou']:.3f} | |\n")
    print("F1 over all pixels with one setting changed:\n")
    print("| setting | default | lower | F1 | higher | F1 |\n|---|---|---|---|---|---|")
    for name, (low, high) in VARIATIONS.items():
        f_low = total(replace(detector, **{name: low}), cases)["f1"]
        f_high = total(replace(detector, **{name: high}), cases)["f1"]
        print(f"| {name} | {getattr(detector, name)} | {low} | {f_low:.3f} | {high} | "
              f"{f_high:.3f} |")
    out = Path(args.out)
    image_grid(rows, ["damaged", "found (magenta), missed (cyan), false (orange)"],
               out / "detection.png")
    print(f"\nwrote {out / 'detection.png'}")


if __name__ == "__main__":
    main()
