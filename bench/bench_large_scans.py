"""Benchmark restore.py on museum-sized scans: peak memory and time, side by side with Telea.

Each measurement runs restore.py in its own process on a generated painting (a shared painting,
or scikit-image's astronaut, enlarged, with white flakes, cracks and losses painted on at full
resolution) and reads that process's peak resident memory from the kernel (getrusage) and the
per-painting phases from the record restore.py writes. Targets (issue 9):
- a 100-megapixel painting restores with the defaults (detection + auto) in at most 3 GB;
- a 24-megapixel one with auto takes at most 1.2x Telea's time on the same mask.
Telea's rows run the same tool (restore.py --method telea --mask) and, for reference, plain
OpenCV cv2.inpaint on the whole decoded image.

--methods adds runs of other fill methods on the 24-megapixel painting's given mask.

Detection at full size (issue 29): restore.py --method telea, finding the damage itself, on the
24-megapixel painting and on the same kind of painting 1,600 px wide (the same generator, its
flakes drawn at that width's scale): the recall and precision of the mask it writes against the
true one, and the seconds of its mask phase beside its Telea fill's, both timed inside that one
run (TensorFlow's start, before the first painting, excluded); at the default detail copy and at
--detail-side 0 (the painting's own size), and on the 512-pixel copy alone (--detail-side 512, as
before the detail copy).

examples:
  python bench/bench_large_scans.py                  # 24 and 100 megapixels
  python bench/bench_large_scans.py --sizes 24       # the timing part only
  python bench/bench_large_scans.py --sizes 24 --methods textured patchmatch
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
SHAPES = {24: (4000, 6000), 100: (8400, 12000)}  # height, width


def make_painting(folder, shape, seed=0):
    """painting.png (damaged, 8-bit) and mask.png (the damage) at shape (bench/common.py's), made
    in a child process so that the bench's own memory stays out of every measurement; returns
    the fraction damaged."""
    arguments = dict(folder=str(folder), count=1, size=shape, damage="scaled flakes", seed=seed,
                     name="painting.png", mask_name="mask.png", png_compression=1)
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "common.py"),
                             json.dumps(arguments)], capture_output=True, text=True, check=True)
    _, (fraction,) = json.loads(result.stdout.splitlines()[-1])
    return fraction


def measure(command):
    """(seconds, peak RSS in bytes) of a child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command} failed: {stderr}")
    return seconds, usage.ru_maxrss * 1024


def restore(folder, name, *options):
    out = folder / name
    seconds, peak = measure([sys.executable, str(ROOT / "restore.py"),
                             str(folder / "painting.png"), "-o", str(out), *options])
    record = json.loads((out / "painting_record.json").read_text())
    return seconds, peak, record


TELEA_ALONE = """
import sys, time; sys.path.insert(0, {root!r})
import cv2
image = cv2.imread({painting!r}, cv2.IMREAD_UNCHANGED)
mask = cv2.imread({mask!r}, cv2.IMREAD_GRAYSCALE)
start = time.perf_counter()
cv2.inpaint(image, (mask > 0).astype('uint8'), 3, cv2.INPAINT_TELEA)
print(time.perf_counter() - start)
"""


def scores(found_path, truth_path):
    """(recall, precision) of a written mask against the true one, both read from files."""
    import cv2
    import numpy as np
    found = cv2.imread(str(found_path), cv2.IMREAD_GRAYSCALE) > 127
    truth = cv2.imread(str(truth_path), cv2.IMREAD_GRAYSCALE) > 127
    hits = np.count_nonzero(found & truth)
    return hits / max(1, np.count_nonzero(truth)), hits / max(1, np.count_nonzero(found))


DETECTION_RUNS = {"default": [], "own size": ["--detail-side", "0"],
                  "512-px copy alone (before)": ["--detail-side", "512"]}


def detection(figure=None):
    """The detection table: see the module's docstring. figure: where to draw a crop of the
    24-megapixel painting at 1:1 with each run's mask over it."""
    print("\n**Detection at full size** (restore.py --method telea, detecting; the mask phase "
          "and the fill phase timed in the same run)\n")
    print("| painting | detail copy | recall | precision | marked | detection s | Telea fill s "
          "| detection / Telea |\n|---|---|---|---|---|---|---|---|")
    for shape in ((1067, 1600), SHAPES[24]):
        with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
            folder = Path(tmp)
            fraction = make_painting(folder, shape)
            runs = DETECTION_RUNS if shape == SHAPES[24] else {"default": []}
            for index, (side, option) in enumerate(runs.items()):
                _, _, record = restore(folder, f"telea{index}", "--method", "telea", *option)
                recall, precision = scores(folder / f"telea{index}" / "painting_mask.png",
                                           folder / "mask.png")
                phases = record["seconds"]
                print(f"| {shape[1]} x {shape[0]} ({fraction:.1%} damaged) | {side} | "
                      f"{recall:.3f} | {precision:.3f} | {record['masked_fraction']:.1%} | "
                      f"{phases['mask']:.2f} | {phases['fill']:.2f} | "
                      f"**{phases['mask'] / phases['fill']:.2f}** |")
            if figure and shape == SHAPES[24]:
                draw(folder, [f"telea{index}" for index in (2, 0)], figure)


def draw(folder, runs, path, top=1800, left=2600, side=400):
    """A crop of the painting at 1:1 beside each run's mask over it: green where a loss was
    found, red where paint was marked, blue where a loss was missed."""
    import cv2
    import numpy as np
    painting = cv2.imread(str(folder / "painting.png"))[top:top + side, left:left + side]
    truth = cv2.imread(str(folder / "mask.png"), cv2.IMREAD_GRAYSCALE)[
        top:top + side, left:left + side] > 127
    panels = [painting]
    for run in runs:
        found = cv2.imread(str(folder / run / "painting_mask.png"), cv2.IMREAD_GRAYSCALE)[
            top:top + side, left:left + side] > 127
        panel = painting.copy()
        panel[found & truth], panel[found & ~truth] = (60, 200, 60), (40, 40, 230)
        panel[~found & truth] = (230, 90, 40)
        panels.append(panel)
    gap = np.full((side, 8, 3), 255, np.uint8)
    row = np.concatenate([x for panel in panels for x in (panel, gap)][:-1], axis=1)
    cv2.imwrite(str(path), row, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"\nwrote {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=int, choices=sorted(SHAPES), default=[24, 100],
                   help="megapixels of the generated paintings")
    p.add_argument("--methods", nargs="*", default=[], metavar="METHOD",
                   help="other fill methods (restore.py --method) to run on the 24-MP mask")
    p.add_argument("--skip-detection", action="store_true",
                   help="leave out the detection table")
    p.add_argument("--figure", metavar="PNG",
                   help="draw a crop of the 24-MP painting with the 512-px copy's mask and the "
                        "default's over it (docs/detection_large.png)")
    args = p.parse_args()
    print("| painting | run | wall s | per painting s (read / mask / fill / write) | peak GB "
          "| ratio to Telea |\n|---|---|---|---|---|---|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-large-") as tmp:
            folder = Path(tmp)
            fraction = make_painting(folder, SHAPES[size])
            label = f"{SHAPES[size][1]} x {SHAPES[size][0]} ({size} MP, {fraction:.1%} damaged)"
            runs = {"telea, given mask": ["--method", "telea", "--mask", str(folder / "mask.png")],
                    "auto, given mask": ["--mask", str(folder / "mask.png")],
                    "auto with detection (the defaults)": []}
            runs.update({f"{method}, given mask": ["--method", method, "--mask",
                                                   str(folder / "mask.png")]
                         for method in args.methods})
            if size == 100:
                runs = {"auto with detection (the defaults)": []}
            results = {}
            for run, options in runs.items():
                results[run] = restore(folder, run.split(",")[0].split()[0] + str(len(results)),
                                       *options)
            telea = results.get("telea, given mask")
            for run, (seconds, peak, record) in results.items():
                phases = record["seconds"]
                parts = " / ".join(f"{phases[k]:.2f}" for k in ("read", "mask", "fill", "write"))
                ratio = (f"{phases['total'] / telea[2]['seconds']['total']:.2f} per painting, "
                         f"{seconds / telea[0]:.2f} wall") if telea else ""
                print(f"| {label} | {run} | {seconds:.1f} | {phases['total']:.2f} ({parts}) "
                      f"| {peak / 1e9:.2f} | {ratio} |")
            if size == 24:
                seconds, peak = measure([sys.executable, "-c", TELEA_ALONE.format(
                    root=str(ROOT), painting=str(folder / "painting.png"),
                    mask=str(folder / "mask.png"))])
                print(f"| {label} | plain cv2.inpaint Telea, whole image (reference) | "
                      f"{seconds:.1f} | | {peak / 1e9:.2f} | |")
    if not args.skip_detection:
        detection(args.figure)


if __name__ == "__main__":
    main()
