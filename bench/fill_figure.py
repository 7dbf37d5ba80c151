"""The README's fill comparison: one wide loss of a painting at its own resolution, filled by
Telea, FSR, PatchMatch, the previous release's default (`--old`: a checkout of it, run through
its own restore.py), `smooth`, the default `auto` and `brushwork`, beside the original, every
pixel at its own size (docs/fill_comparison.jpg).

The painting is shrunk to at most --max-side px; its mask is evaluate.py's blobs (seed 0) drawn
at 256 x 384 and enlarged to the painting, as `evaluate.py --full-size` draws them. FSR and
PatchMatch fill a crop around the loss (they only read paint near it); the others fill the
whole painting, as restore.py does.

examples:
  python bench/fill_figure.py --old /tmp/base       # a checkout of the previous release
  python bench/fill_figure.py --painting ../shared/data/paintings/val/x.jpg
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--painting", help="default: the first shared val painting of at least "
                   "1200 px, else scikit-image's astronaut")
    p.add_argument("--old", metavar="CHECKOUT", help="a checkout of the previous release, for "
                   "its default fill (left out without it)")
    p.add_argument("--max-side", type=int, default=1600)
    p.add_argument("--margin", type=int, default=48, help="paint shown around the loss, px")
    p.add_argument("--out", default=str(ROOT / "docs" / "fill_comparison.jpg"))
    args = p.parse_args()
    from utils.env import prepare
    prepare()
    import cv2
    import numpy as np
    from PIL import Image

    from bench.common import shared
    from filling.fill import classical, restore_image
    from filling.registry import load_method
    from utils.images import read_image, resize, to_uint8
    from utils.masks import fixed_masks
    from utils.plotting import image_grid

    if args.painting:
        path = Path(args.painting)
    else:
        big = [p for p in shared(("val",)) if max(Image.open(p).size) >= 1200]
        path = big[0] if big else None
    if path is None:
        from skimage import data
        image = data.astronaut().astype(np.float32) / 255
    else:
        image = read_image(path)
    scale = args.max_side / max(image.shape[:2])
    if scale < 1:
        image = resize(image, (round(image.shape[0] * scale), round(image.shape[1] * scale)))
    mask = fixed_masks("blobs", 1, (256, 384), 0)[0]
    mask = cv2.resize(mask, image.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    count, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), 8)
    x, y, w, h, _ = stats[1 + np.argmax(stats[1:, 4])]
    m = args.margin
    rows = slice(max(0, y - m), min(image.shape[0], y + h + m))
    cols = slice(max(0, x - m), min(image.shape[1], x + w + m))
    damaged = image * (1 - mask[..., None]) + mask[..., None]
    panels, titles = [damaged[rows, cols]], ["damaged"]
    # the crop FSR and PatchMatch fill: the loss and as much paint again around it
    reach = max(w, h)
    wide_rows = slice(max(0, y - reach), min(image.shape[0], y + h + reach))
    wide_cols = slice(max(0, x - reach), min(image.shape[1], x + w + reach))
    inner = (slice(rows.start - wide_rows.start, rows.stop - wide_rows.start),
             slice(cols.start - wide_cols.start, cols.stop - wide_cols.start))
    for method in ("telea", "fsr", "patchmatch"):
        if method == "telea":
            filled = classical(damaged, mask, method)[rows, cols]
        else:
            filled = classical(damaged[wide_rows, wide_cols], mask[wide_rows, wide_cols],
                               method)[inner]
        panels.append(filled)
        titles.append(method)
    if args.old:
        with tempfile.TemporaryDirectory() as tmp:
            Image.fromarray(to_uint8(damaged)).save(Path(tmp) / "p.png")
            Image.fromarray((mask * 255).astype(np.uint8)).save(Path(tmp) / "m.png")
            subprocess.run([sys.executable, str(Path(args.old) / "restore.py"),
                            str(Path(tmp) / "p.png"), "--mask", str(Path(tmp) / "m.png"),
                            "-o", str(Path(tmp) / "out")], check=True, capture_output=True)
            old = read_image(Path(tmp) / "out" / "p_restored.png")
        panels.append(old[rows, cols])
        titles.append("previous auto")
    _, model, _ = load_method("auto")
    for method in ("smooth", "auto", "brushwork"):
        panels.append(restore_image(damaged, mask, method, model)[rows, cols])
        titles.append("auto (new default)" if method == "auto" else method)
    panels.append(image[rows, cols])
    titles.append("original")
    image_grid([panels], titles, args.out, max_width=None)
    print(f"{path or 'astronaut'}: {image.shape[1]} x {image.shape[0]}, loss {w} x {h} px -> "
          f"{args.out}")


if __name__ == "__main__":
    main()
