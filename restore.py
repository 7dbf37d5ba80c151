"""Restore damaged paintings at their own resolution: find the whitish paint losses (or take your
mask), fill them, and write the restored painting, its mask and a before | mask | after figure.

Known pixels are never changed, and inputs are never written to. Outputs go to OUT as
<name>_restored.png (PNG, so the untouched pixels stay exact even for a JPEG input),
<name>_mask.png (white = filled) and <name>_figure.jpg.

--method auto (the default) fills thin damage (specks, cracks, strokes) with OpenCV Navier-Stokes
and wide losses with the learned model (--model), as evaluate.py measured best for each.

examples:
  python restore.py painting.jpg                            # -> restored/painting_restored.png
  python restore.py scans/ -o restored_scans                # every image in a folder
  python restore.py painting.jpg --mask damage.png --method telea
  python restore.py mural.jpg --white 0.8                   # greyer losses on a darker photo
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

import utils  # noqa: F401  (sets TensorFlow's environment before it is imported)
from utils import cli
from utils.detect import Detector
from utils.images import ImageError, UserError, find_images, read_image, save_image
from utils.plotting import image_grid
from utils.restore import METHODS, load_method, restore_image

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL = ROOT / "pretrained" / "context_encoder.keras"


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("paintings", nargs="+", metavar="PAINTING", help="image files or folders")
    p.add_argument("-o", "--out", default="restored", help="folder for the outputs")
    p.add_argument("--mask", metavar="FILE", help="your own damage mask for a single painting "
                   "(white or nonzero = missing) instead of automatic detection")
    p.add_argument("--method", default="auto", metavar="METHOD",
                   help=f"fill with one of {', '.join(METHODS)}, or a model PATH.keras from the "
                        f"train scripts")
    p.add_argument("--model", default=str(DEFAULT_MODEL), metavar="PATH",
                   help="the learned model that auto uses for wide losses ('none': the pyramid "
                        "fill)")
    p.add_argument("--radius", type=int, default=3, help="telea and ns: neighbourhood radius")
    p.add_argument("--thin-radius", type=float, default=6.0, help="auto: regions whose every "
                   "pixel lies within this many pixels of paint count as thin")
    d = p.add_argument_group("damage detection (without --mask)")
    defaults = Detector()
    d.add_argument("--white", type=float, default=defaults.white,
                   help="a loss's core has every channel at least this bright (0-1)")
    d.add_argument("--min-area", type=int, default=defaults.min_area,
                   help="smallest core kept, in pixels")
    d.add_argument("--contrast", type=float, default=defaults.contrast,
                   help="edges: brighter than the local background by this much (0-1)")
    d.add_argument("--background-size", type=int, default=defaults.background_size,
                   help="edges: diameter in pixels of the disc the local background is measured "
                        "with (wider than the losses)")
    d.add_argument("--grow", type=int, default=defaults.grow,
                   help="edges: pixels a core may grow by")
    return p.parse_args(argv)


def _inputs(paths):
    """Every painting named, folders expanded; each checked readable before anything is written."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = find_images(path)
            if not found:
                raise UserError(f"{path}: no images in this folder")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"{path}: no such file or folder")
    for path in files:
        try:
            with Image.open(path) as im:
                im.verify()
        except Exception as error:
            raise ImageError(f"{path}: not a readable image ({error})")
    return files


def _outputs(out, files):
    """The output folder, made and checked writable, and each input's output stem there."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".restore-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UserError(f"cannot write to the output folder {out} ({error.strerror or error})")
    stems = [path.stem for path in files]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        raise UserError(f"several inputs are named {sorted(duplicates)[0]}: their outputs would "
                        f"overwrite each other; restore them into separate folders")
    return [out / stem for stem in stems]


def _read_mask(path, shape):
    mask = read_image(path).max(axis=-1)
    if mask.shape != shape:
        raise UserError(f"mask {path} is {mask.shape[1]} x {mask.shape[0]} pixels but the "
                        f"painting is {shape[1]} x {shape[0]}")
    return (mask > 0.5).astype(np.float32)


def _write(path, write):
    """Write through a temporary name, so an interrupted run leaves no half-written file."""
    partial = path.with_name(".partial-" + path.name)
    write(partial)
    partial.replace(path)


def restore_one(path, stem, args, method, model, detector, mask=None):
    """Restore one painting (mask: the user's, else detected) and write its three files."""
    image = read_image(path)
    if mask is None:
        mask = detector(image)
    restored = restore_image(image, mask, method, model, args.radius, args.thin_radius)
    _write(stem.with_name(stem.name + "_restored.png"), lambda p: save_image(p, restored))
    _write(stem.with_name(stem.name + "_mask.png"), lambda p: save_image(p, mask))
    _write(stem.with_name(stem.name + "_figure.jpg"),
           lambda p: image_grid([[image, np.repeat(mask[..., None], 3, -1), restored]],
                                ["before", f"mask ({mask.mean():.1%} of the painting)",
                                 f"after ({args.method})"], p, max_width=2400))
    return mask.mean()


def main(args):
    files = _inputs(args.paintings)
    if args.mask and len(files) != 1:
        raise UserError(f"--mask is one painting's mask, but {len(files)} paintings were given")
    user_mask = None
    if args.mask:
        if not Path(args.mask).is_file():
            raise UserError(f"mask {args.mask}: no such file")
        with Image.open(files[0]) as im:  # the painting's size, EXIF orientation applied
            size = ImageOps.exif_transpose(im).size
        user_mask = _read_mask(args.mask, size[::-1])  # a wrong size stops us here
    method, model = load_method(args.method)
    if method == "auto" and args.model.lower() != "none":
        _, model = load_method(args.model)
    stems = _outputs(args.out, files)
    detector = Detector(args.white, args.min_area, args.contrast, args.background_size, args.grow)
    for path, stem in tqdm(list(zip(files, stems)), desc="restoring", unit="painting",
                           disable=len(files) == 1):
        fraction = restore_one(path, stem, args, method, model, detector, user_mask)
        tqdm.write(f"{path}: filled {fraction:.2%} of the painting -> {stem}_restored.png")


if __name__ == "__main__":
    cli.run(main, parse_args)
