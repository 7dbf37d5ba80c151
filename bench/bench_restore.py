"""Benchmark restore.py's work on a 1600 x 1200 painting against OpenCV Telea alone, side by side.

The painting (a shared painting enlarged, or a generated one when ../shared is absent) gets white
damage at full resolution: a thousand flakes, cracks and several paint-loss blobs. Measured, each
the median of --repeats runs: damage detection; `auto`'s fill of the detected mask (the model
loaded and warmed once, as restore.py does for a folder of paintings); OpenCV Telea (radius 3)
on the same mask. Target: detection + auto fill <= 1.5x Telea alone. --methods times other
fills of the same mask beside them (restore.py's --method, at full resolution; the slow ones
once: --repeats applies to those under a second).

examples:
  python bench/bench_restore.py
  python bench/bench_restore.py --model none     # auto with the pyramid fill for wide losses
  python bench/bench_restore.py --detect white   # the white rule, made for this white damage
  python bench/bench_restore.py --methods ns biharmonic fsr patchmatch textured
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from utils import env  # noqa: E402

env.prepare()  # TensorFlow's environment, as the scripts set it
from bench import common  # noqa: E402

SIZE = (1200, 1600)  # height, width


def test_painting(rng):
    """(damaged, true mask, source): a painting at SIZE with white flakes, cracks and blobs
    painted on (bench/common.py's)."""
    images, paths = common.sources()
    damaged, mask = common.painting(images[0], SIZE, "masks", rng)
    name = paths[0].name if paths else "scikit-image's astronaut"
    return damaged, mask, f"{name}, enlarged"


def _median_time(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "pretrained" / "context_encoder.keras"),
                   help="the learned model auto uses ('none': the pyramid fill)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--detect", default="learned", choices=("learned", "colour", "white"),
                   help="the detection method (restore.py's --detect)")
    p.add_argument("--methods", nargs="*", default=[], metavar="METHOD",
                   help="other fill methods to time on the same mask (filling/registry.py)")
    args = p.parse_args()

    from detection.detect import Detector, detection_scores
    from filling.fill import classical
    from models.loading import load_inpainting_model
    from filling.fill import restore_image
    damaged, truth, source = test_painting(np.random.default_rng(0))
    start = time.perf_counter()
    model = None if args.model == "none" else load_inpainting_model(args.model)
    load_s = time.perf_counter() - start
    detector = Detector(args.detect)
    restore_image(damaged, truth, "auto", model)  # warm-up: tracing is not restoring

    detect_s, mask = _median_time(lambda: detector(damaged), args.repeats)
    auto_s, _ = _median_time(lambda: restore_image(damaged, mask, "auto", model), args.repeats)
    telea_s, _ = _median_time(lambda: classical(damaged, mask, "telea", radius=3), args.repeats)
    scores = detection_scores(mask, truth)
    total = detect_s + auto_s
    print(f"restore benchmark: {SIZE[1]} x {SIZE[0]} ({source}), {truth.mean():.1%} damaged; "
          f"detection ({args.detect}) F1 {scores['f1']:.3f}; model: {args.model} (loaded once in {load_s:.1f} s)\n")
    print("| measure | seconds | ratio to Telea | target |\n|---|---|---|---|")
    print(f"| OpenCV Telea alone (radius 3), detected mask | {telea_s:.3f} | 1.00 | |")
    print(f"| detection | {detect_s:.3f} | {detect_s / telea_s:.2f} | |")
    print(f"| auto fill | {auto_s:.3f} | {auto_s / telea_s:.2f} | |")
    print(f"| detection + auto fill | {total:.3f} | {total / telea_s:.2f} | <= 1.5 |")
    for method in args.methods:
        def run():
            return restore_image(damaged, mask, method, model)
        once, _ = _median_time(run, 1)
        seconds = once if once > 1.0 else _median_time(run, args.repeats)[0]
        print(f"| {method} fill | {seconds:.3f} | {seconds / telea_s:.2f} | |")


if __name__ == "__main__":
    main()
