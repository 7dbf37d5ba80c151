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
import utils  # noqa: E402,F401  (TensorFlow's environment, as the scripts set it)

SIZE = (1200, 1600)  # height, width


def test_painting(rng):
    """(damaged, true mask): a painting at SIZE with white flakes, cracks and blobs painted on."""
    import cv2
    from utils.images import find_images, read_image
    from utils.masks import Blobs, Holes, damage
    shared = ROOT.parent / "shared" / "data" / "paintings" / "val"
    if shared.is_dir():
        image = read_image(find_images(shared)[0])
        source = f"{find_images(shared)[0].name}, enlarged"
    else:
        from skimage.data import astronaut
        image = astronaut().astype(np.float32) / 255.0
        source = "scikit-image's astronaut, enlarged"
    image = cv2.resize(image, SIZE[::-1], interpolation=cv2.INTER_CUBIC).clip(0, 1)
    mask = Holes()(SIZE, rng) + Blobs()(SIZE, rng)
    for _ in range(12):  # cracks: random polylines 2 px wide
        points = np.cumsum(rng.integers(-40, 41, (8, 2)), axis=0) + rng.integers(0, 1200, 2)
        cv2.polylines(mask, [points.astype(np.int32)], False, 1.0, 2)
    mask = (mask > 0).astype(np.float32)
    return damage(image, mask), mask, source


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
                   help="other fill methods to time on the same mask (utils.restore.METHODS)")
    args = p.parse_args()

    from utils.detect import Detector, detection_scores
    from utils.inpaint import classical, load_inpainting_model
    from utils.restore import restore_image
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
