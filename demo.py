"""The first run: restore a damaged painting with the defaults, with nothing of your own.

Makes demo/coffee_damaged.png, scikit-image's coffee photograph (not a painting: the shared
paintings are not ours to redistribute) with synthetic paint loss of realistic appearance
(training/paint_loss.py: pale grounds, soft edges), then restores it with restore.py's defaults
(learned detection, the auto fill) into demo/restored/ and lists the four files it wrote. A
second run reuses the painting and replaces its own results.

examples:
  python demo.py                 # ./run.sh does this after setting up
  python demo.py --out elsewhere
"""
import subprocess
import sys
import time
from pathlib import Path

from utils import cli

ROOT = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--out", default="demo", help="folder for the painting and its restoration")
    return p.parse_args(argv)


def make_painting(path):
    """The damaged coffee photograph (seeded: the same every time) and the share damaged."""
    import numpy as np
    from skimage.data import coffee

    from utils.files import write_atomically
    from training.paint_loss import PaintLoss
    from utils.images import save_image
    image = coffee().astype(np.float32) / 255.0
    damaged, truth = PaintLoss(clean=0.0, events=(3, 3))(image, np.random.default_rng(11))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda p: save_image(p, damaged))
    return float(truth.mean())


def main(args):
    start = time.perf_counter()
    out = Path(args.out)
    painting = out / "coffee_damaged.png"
    if not painting.exists():
        share = make_painting(painting)
        print(f"made {painting}: scikit-image's coffee photograph with {share:.1%} of it lost")
    else:
        print(f"restoring {painting} (made by an earlier run)")
    restored = out / "restored"
    result = subprocess.run([sys.executable, str(ROOT / "restore.py"), str(painting), "-o",
                             str(restored)])
    if result.returncode:
        sys.exit(result.returncode)
    stem = painting.stem
    print(f"\ndone in {time.perf_counter() - start:.0f} s. The four files:")
    for name, what in ((f"{stem}_restored.png", "the restored painting"),
                       (f"{stem}_mask.png", "what was filled (white)"),
                       (f"{stem}_figure.jpg", "before, the mask in magenta, after: look here"),
                       (f"{stem}_record.json", "how it was made")):
        print(f"  {restored / name}   {what}")
    print("\nnext:\n"
          f"  ./run.sh app            the workbench on {out}/: correct the mask, restore, save\n"
          "  .venv/bin/python restore.py YOUR_SCANS/ -o restored   your own paintings\n"
          "  ./run.sh train --help   train a model (the default run: about 35 minutes on 2 "
          "cores)")


if __name__ == "__main__":
    cli.run(main, parse_args)
