"""Cut training windows for an inpainting model the way the full-size fill cuts them.

At a painting's own size, `auto` fills each wide loss on a window around it (filling/fill.py's
_window): the loss with as much paint again on each side, in the model's aspect (a portrait
window transposed), shrunk to the model's size and never enlarged, so the model sees the paint
at its own resolution or a little shrunk. A model trained on whole paintings shrunk to its size
(2-3 times, most of them) sees coarser paint than that. This tool writes such windows of a
folder of paintings as PNG files that any train script reads (--data): COUNT windows of each
painting, each a crop of the model's aspect shrunk by a factor drawn between SCALES (capped by
the painting's size), transposed when portrait, at a place drawn at random (seeded by the
painting's name: the same windows on every run).

examples:
  python -m training.windows data/ce/train data/ce-windows/train
  python -m training.windows ../shared/data/paintings/val data/ce-windows/val --count 2
"""
import argparse
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

from training.data import random_crop
from utils.images import IMAGE_SIZE, find_images, read_image, to_uint8

COUNT = 2             # windows cut from each painting
SCALES = (1.0, 2.5)   # each window is the model's size times this, shrunk to it


def windows(image, count=COUNT, size=IMAGE_SIZE, scales=SCALES, rng=None):
    """count windows (size, float32 in [0, 1]) of an image (H, W, 3): crops of the model's
    aspect (portrait on a portrait painting, then transposed) at a random scale of scales
    (at most the painting's own extent), shrunk to size with area interpolation."""
    rng = rng or np.random.default_rng(0)
    portrait = image.shape[0] > image.shape[1]
    unit = size[::-1] if portrait else size
    crops = [random_crop(image, unit, rng, zoom=scales, mirror=False) for _ in range(count)]
    return [np.ascontiguousarray(c.transpose(1, 0, 2)) if portrait else c for c in crops]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__[
        __doc__.index("examples:"):], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="folder of paintings")
    parser.add_argument("out", type=Path, help="folder the windows are written to")
    parser.add_argument("--count", type=int, default=COUNT, help="windows of each painting")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count {args.count}: at least 1")
    paths = find_images(args.source) if args.source.is_dir() else []
    if not paths:
        sys.exit(f"error: no painting under {args.source}")
    from tqdm import tqdm
    args.out.mkdir(parents=True, exist_ok=True)
    for path in tqdm(paths, desc="windows", unit="painting"):
        seed = int.from_bytes(hashlib.sha256(path.name.encode()).digest()[:8], "little")
        for index, window in enumerate(windows(read_image(path), args.count,
                                               rng=np.random.default_rng(seed))):
            target = args.out / f"{path.stem}-w{index}.png"
            cv2.imwrite(str(target), cv2.cvtColor(to_uint8(window), cv2.COLOR_RGB2BGR))
    print(f"{len(paths) * args.count} windows of {len(paths)} paintings in {args.out}")


if __name__ == "__main__":
    main()
