"""The first run: restore a damaged painting with the defaults, with nothing of your own.

Makes demo/iudea_damaged.png from samples/vinckboons-iudea.jpg (a public-domain painting of the
Rijksmuseum, samples/README.md) with paint loss of the kind this tool is for: clusters of small
flakes and a few lacunae where the gesso shows through, made by samples/losses.py (a generator
the detector never saw in training). Then restores it with restore.py's defaults (auto
detection, the auto fill) into demo/restored/, lists the four files it wrote and says how much
of the true loss (samples/vinckboons-iudea_losses.png) was found and how much intact paint was
marked. A second run reuses the painting and replaces its own results.

examples:
  python demo.py                 # ./run.sh does this after setting up
  python demo.py --out elsewhere
"""
import subprocess
import sys
import time
from pathlib import Path

from samples.first_run import TRUTH, make_painting, scores
from utils import cli

ROOT = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--out", default="demo", help="folder for the painting and its restoration")
    return p.parse_args(argv)


def main(args):
    start = time.perf_counter()
    out = Path(args.out)
    painting = out / "iudea_damaged.png"
    if not painting.exists():
        share = make_painting(painting)
        print(f"made {painting}: a Dutch painting of about 1662 (samples/README.md) with "
              f"{share:.1%} of its paint flaked off")
    else:
        print(f"restoring {painting} (made by an earlier run)")
    restored = out / "restored"
    result = subprocess.run([sys.executable, str(ROOT / "restore.py"), str(painting), "-o",
                             str(restored)])
    if result.returncode:
        sys.exit(result.returncode)
    stem = painting.stem
    found, marked, far = scores(restored / f"{stem}_mask.png")
    print(f"\nfound {found:.0%} of the true losses ({TRUTH.relative_to(ROOT)}); marked "
          f"{marked:.2%} of the intact paint, {far:.2%} farther than 2 px from a loss")
    print(f"done in {time.perf_counter() - start:.0f} s. The four files:")
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
    cli.run(main, parse_args, restoring=True)  # restoring: see utils/env.py
