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


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=int, choices=sorted(SHAPES), default=[24, 100],
                   help="megapixels of the generated paintings")
    p.add_argument("--methods", nargs="*", default=[], metavar="METHOD",
                   help="other fill methods (restore.py --method) to run on the 24-MP mask")
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


if __name__ == "__main__":
    main()
