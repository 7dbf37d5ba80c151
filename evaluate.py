"""Compare inpainting methods on clean paintings: damage each one with the fixed masks of every
kind and seed, fill the holes with each method, and measure the holes only.

Methods: telea and ns (OpenCV, radius 3), biharmonic (scikit-image), fsr (OpenCV-contrib's
frequency-selective reconstruction), patchmatch, pyramid (the weightless fill the learned models
start from), auto (restore.py's default: ns for thin regions, the first --models model for wide
ones, or the mean of the pyramid fill and Telea's without one), textured (auto with PatchMatch's
grain in the wide regions), and any saved model.keras. Known
pixels are always kept, so every figure is about the filled pixels: hole PSNR (dB), hole SSIM,
hole L1, hole sharpness (the variance of the Laplacian in the hole as a ratio to the original's:
1 = as much fine detail as the original; the median over images) and milliseconds per image
(models: measured in batches of 8; time the methods with nothing else running). Every method is
also compared with the best classical method of each mask kind, painting by painting: the mean
paired difference in hole PSNR with a 95% bootstrap interval over the paintings (each painting's
difference averaged over the seeds first, since a painting's seeds are not independent).

--full-size fills each painting at its own resolution instead (its longer side at most
--max-side, 1600 px): the same masks, drawn at --image-size and enlarged to the painting
(nearest), every method run as restore.py runs it (a model through the loss-scale crops of
filling/fill.py), time per painting; the tables and intervals are the same.

Writes results.csv, per_image.csv, differences.csv, psnr.png, examples.png (whole images) and
large_holes.png (the largest hole of the first painting of each large-hole kind, every pixel at
its own size, where texture shows) to --out, and prints markdown tables.

examples:
  python evaluate.py --data ../shared/data/paintings/val --models pretrained/context_encoder.keras
  python evaluate.py --masks centre --seeds 0 --methods telea biharmonic
  python evaluate.py --data ../shared/data/paintings/val --full-size --masks centre blobs
"""
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from filling import registry as fills
from filling.fill import classical, restore_image
from models.loading import load_inpainting_model, model_size, predict
from training.data import sample_images, sample_paths
from utils import cli
from utils.errors import ImageError, UserError
from utils.files import sha256, writable_folder, write_text
from utils.images import IMAGE_SIZE, find_images, load_folder, parse_size, read_image, resize
from utils.masks import MASK_KINDS, damage, fixed_masks
from utils.metrics import hole_l1, hole_psnr, hole_sharpness, hole_ssim
from utils.plotting import grouped_bars, image_grid

METRICS = ("psnr", "ssim", "l1", "sharpness", "ms")
RESAMPLES = 10000  # bootstrap resamples of the paintings for each interval


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("--data", metavar="DIR", help="folder of clean paintings (default: "
                   "scikit-image's sample photographs)")
    p.add_argument("--methods", nargs="+", choices=fills.METHODS, default=list(fills.CLASSICAL),
                   help=f"fill methods to compare: {fills.describe()}")
    p.add_argument("--models", nargs="*", default=[], metavar="PATH",
                   help="saved inpainting models (.keras) to compare")
    p.add_argument("--masks", nargs="+", choices=sorted(MASK_KINDS),
                   default=["holes", "centre", "blobs"], help="mask kinds")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                   help="mask seeds: each image is damaged once per kind and seed")
    p.add_argument("--image-size", type=parse_size, default="x".join(map(str, IMAGE_SIZE)),
                   metavar="HxW", help="size the paintings are resized to")
    p.add_argument("--limit", type=cli.positive(int), help="use only the first N paintings")
    p.add_argument("--full-size", action="store_true",
                   help="fill each painting at its own resolution (see above)")
    p.add_argument("--max-side", type=cli.positive(int), default=1600, metavar="PX",
                   help="with --full-size: paintings larger than this are shrunk to it")
    p.add_argument("--out", help="folder for the CSVs and charts (default runs/eval-<time>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files in --out that no earlier evaluate.py run wrote there (by "
                        "default the run stops before it starts)")
    return p.parse_args(argv)


def _filler(method, models):
    """fill(image, mask) for a method name; one that uses a model takes the first model given."""
    if fills.get(method).classical:
        return lambda image, mask: classical(image, mask, method)
    model = next(iter(models.values()), None)
    return lambda image, mask: restore_image(image, mask, method, model)


def full_size_masks(kind, images, seed, size):
    """The masks of kind and seed drawn at size (height, width), each enlarged to its painting
    (nearest: a hole stays a hole)."""
    import cv2
    drawn = fixed_masks(kind, len(images), size, seed)
    return [cv2.resize(m.astype(np.float32), image.shape[1::-1], interpolation=cv2.INTER_NEAREST)
            for m, image in zip(drawn, images)]


def evaluate(images, methods, models, mask_kinds, seeds, full_size=None):
    """Per-image rows {method, mask, seed, image, psnr, ssim, l1, sharpness, ms} and one example
    per kind. full_size: the size masks are drawn at, for paintings at their own sizes (a list);
    every method and model then fills one painting at a time, as restore.py does."""
    rows, examples = [], {}
    total = len(mask_kinds) * len(seeds) * (len(methods) + len(models))
    with tqdm(total=total, desc="evaluating", unit="run") as bar:
        for kind in mask_kinds:
            for seed in seeds:
                masks = (full_size_masks(kind, images, seed, full_size) if full_size else
                         fixed_masks(kind, len(images), images.shape[1:3], seed))
                results = {}
                fillers = [(method, _filler(method, models)) for method in methods]
                if full_size:  # each model as restore.py runs it, on crops at the loss's scale
                    fillers += [(name, lambda image, mask, model=model:
                                 restore_image(image, mask, "model", model))
                                for name, model in models.items()]
                for method, fill in fillers:
                    bar.set_postfix_str(f"{kind} seed {seed} {method}")
                    outputs, times = [], []
                    for image, mask in zip(images, masks):
                        start = time.perf_counter()
                        outputs.append(fill(image, mask))
                        times.append(time.perf_counter() - start)
                    results[method] = (outputs, times)
                    bar.update()
                for name, model in ({} if full_size else models).items():
                    bar.set_postfix_str(f"{kind} seed {seed} {name}")
                    predict(model, images[:1], masks[:1])  # warm-up: tracing is not inpainting
                    start = time.perf_counter()
                    outputs = predict(model, images, masks)
                    per_image = (time.perf_counter() - start) / len(images)
                    results[name] = (outputs, [per_image] * len(images))
                    bar.update()
                for name, (outputs, times) in results.items():
                    for index, (out, image, mask) in enumerate(zip(outputs, images, masks)):
                        rows.append({"method": name, "mask": kind, "seed": seed, "image": index,
                                     "psnr": hole_psnr(out, image, mask),
                                     "ssim": hole_ssim(out, image, mask),
                                     "l1": hole_l1(out, image, mask),
                                     "sharpness": hole_sharpness(out, image, mask),
                                     "ms": 1000 * times[index]})
                if kind not in examples:
                    examples[kind] = ([damage(images[0], masks[0])] +
                                      [outputs[0] for outputs, _ in results.values()] +
                                      [images[0]], masks[0])
    return rows, examples


def summarise(rows):
    """{(method, mask): {metric: mean}} in the order methods and masks first appear; sharpness is
    the median, as a ratio is thrown far by a hole the original has almost flat."""
    groups = {}
    for row in rows:
        groups.setdefault((row["method"], row["mask"]), []).append(row)
    return {key: {m: float((np.median if m == "sharpness" else np.mean)([r[m] for r in group]))
                  for m in METRICS}
            for key, group in groups.items()}


def paired_differences(rows, seed=0):
    """{(method, mask): (mean, low, high, reference)}: each method's hole PSNR minus the best
    classical method's of that mask kind (the reference: the highest mean), per painting averaged
    over the seeds, with a 95% percentile-bootstrap interval over the paintings. Empty without a
    classical method."""
    psnr = {}
    for row in rows:
        psnr.setdefault((row["method"], row["mask"]), {}).setdefault(row["image"], []).append(
            row["psnr"])
    per_painting = {key: np.array([np.mean(v) for _, v in sorted(images.items())])
                    for key, images in psnr.items()}
    rng = np.random.default_rng(seed)
    result = {}
    for kind in dict.fromkeys(k[1] for k in psnr):
        classical_means = {m: v.mean() for (m, k), v in per_painting.items()
                           if k == kind and m in fills.CLASSICAL}
        if not classical_means:
            continue
        best = max(classical_means, key=classical_means.get)
        for (method, k), values in per_painting.items():
            if k != kind:
                continue
            difference = values - per_painting[(best, kind)]
            picks = rng.integers(0, len(difference), (RESAMPLES, len(difference)))
            low, high = np.percentile(difference[picks].mean(axis=1), [2.5, 97.5])
            result[(method, kind)] = (float(difference.mean()), float(low), float(high), best)
    return result


def _differences_table(differences):
    """methods x mask kinds: the paired difference and its interval; the reference in the head."""
    kinds = list(dict.fromkeys(k[1] for k in differences))
    methods = list(dict.fromkeys(k[0] for k in differences))
    references = [differences[(methods[0], k)][3] for k in kinds]
    lines = ["| hole PSNR minus the best classical (dB, 95% interval) | " +
             " | ".join(f"{k} (vs {r})" for k, r in zip(kinds, references)) + " |",
             "|---" * (len(kinds) + 1) + "|"]
    for method in methods:
        cells = []
        for kind in kinds:
            mean, low, high, reference = differences[(method, kind)]
            cells.append("(reference)" if method == reference else
                         f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def _pivot(summary, metric, title, best, digits=2):
    """methods x mask kinds for one metric; the best of each kind (by best(values)) in bold."""
    methods = list(dict.fromkeys(k[0] for k in summary))
    kinds = list(dict.fromkeys(k[1] for k in summary))
    lines = [f"| {title} | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    winner = {k: best([summary[(m, k)][metric] for m in methods]) for k in kinds}
    for method in methods:
        cells = []
        for kind in kinds:
            value = summary[(method, kind)][metric]
            cell = f"{value:.{digits}f}"
            cells.append(f"**{cell}**" if value == winner[kind] else cell)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def markdown(summary, differences=None):
    """The full table, then hole PSNR, the paired differences and hole sharpness as methods x
    mask kinds."""
    lines = ["| method | mask | hole PSNR (dB) | hole SSIM | hole L1 | sharpness | ms/img |",
             "|---|---|---|---|---|---|---|"]
    for (method, kind), s in summary.items():
        lines.append(f"| {method} | {kind} | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['l1']:.4f} "
                     f"| {s['sharpness']:.3f} | {s['ms']:.1f} |")
    lines += ["", *_pivot(summary, "psnr", "hole PSNR (dB)", max), ""]
    if differences:
        lines += [*_differences_table(differences), ""]
    lines += [*_pivot(summary, "sharpness", "sharpness (1 = original)",
                      lambda values: min(values, key=lambda v: abs(np.log(max(v, 1e-8)))), 3)]
    return "\n".join(lines)


def write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def largest_hole(panels, mask, margin=24):
    """The panels cropped to the largest 8-connected region of mask and a margin around it."""
    import cv2
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0.5).astype(np.uint8), 8)
    x, y, w, h, _ = stats[1 + np.argmax(stats[1:, 4])]
    height, width = mask.shape
    rows = slice(max(0, y - margin), min(height, y + h + margin))
    cols = slice(max(0, x - margin), min(width, x + w + margin))
    return [panel[rows, cols] for panel in panels]


OUTPUTS = ("results.csv", "per_image.csv", "differences.csv", "psnr.png", "examples.png",
           "large_holes.png")
RECORD = "evaluate_record.json"  # the sha256 of each file a run wrote: what it may replace


def refuse_foreign_results(out, overwrite):
    """Stop before the evaluation if out holds a file of OUTPUTS that no evaluate.py run wrote
    (its sha256 not in out's record): a user's own results.csv is never replaced."""
    if overwrite:
        return
    try:
        written = json.loads((out / RECORD).read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        written = {}
    for name in (*OUTPUTS, RECORD):
        path = out / name
        if path.exists() and name != RECORD and written.get(name) != sha256(path):
            raise UserError(f"{path} exists and no evaluate.py run wrote it: it is not replaced; "
                            f"give another --out, or pass --overwrite")


def write_results(out, rows, summary, differences, examples, mask_kinds, n_images, seeds):
    """results.csv, per_image.csv, differences.csv, psnr.png, examples.png and large_holes.png
    in out, and the record of their sha256."""
    _write_results(out, rows, summary, differences, examples, mask_kinds, n_images, seeds)
    record = {"sha256": {name: sha256(out / name) for name in OUTPUTS if (out / name).exists()},
              "command": " ".join(sys.argv)}
    write_text(out / RECORD, json.dumps(record, indent=2) + "\n")


def _write_results(out, rows, summary, differences, examples, mask_kinds, n_images, seeds):
    write_csv(out / "per_image.csv", rows)
    write_csv(out / "results.csv", [{"method": m, "mask": k, **s} for (m, k), s in summary.items()])
    if differences:
        write_csv(out / "differences.csv",
                  [{"method": m, "mask": k, "reference": ref, "psnr_difference": mean,
                    "low_95": low, "high_95": high}
                   for (m, k), (mean, low, high, ref) in differences.items()])
    names = list(dict.fromkeys(r["method"] for r in rows))
    grouped_bars({n: {k: summary[(n, k)]["psnr"] for k in mask_kinds} for n in names},
                 mask_kinds, names, out / "psnr.png", "hole PSNR (dB)",
                 f"hole PSNR, {n_images} images x {len(seeds)} seeds")
    titles = ["damaged", *names, "original"]
    image_grid([panels for panels, _ in examples.values()], titles, out / "examples.png")
    large = [largest_hole(panels, mask) for kind, (panels, mask) in examples.items()
             if kind in ("centre", "blobs")]
    if large:
        image_grid(large, titles, out / "large_holes.png", max_width=None)


def full_size_images(paths, max_side):
    """Each image at its own resolution, shrunk (area) where its longer side exceeds max_side;
    unreadable ones skipped with a warning."""
    images = []
    for path in paths:
        try:
            image = read_image(path)
        except ImageError as error:
            print(f"warning: skipping {error}", file=sys.stderr)
            continue
        scale = max_side / max(image.shape[:2])
        if scale < 1:
            size = (round(image.shape[0] * scale), round(image.shape[1] * scale))
            image = resize(image, size)
        images.append(image)
    if not images:
        raise UserError("no readable image to evaluate")
    return images


def main(args):
    out = Path(args.out or f"runs/eval-{time.strftime('%Y%m%d-%H%M%S')}")
    writable_folder(out)  # a bad --out stops the run before the evaluation
    refuse_foreign_results(out, args.overwrite)
    models = {}
    for path in args.models:
        model = load_inpainting_model(path)
        if not args.full_size and model_size(model) != tuple(args.image_size):
            raise UserError(f"{path} works at {model_size(model)}, not at --image-size "
                            f"{args.image_size}")
        # runs/<name>/model.keras is named by its run; other files by their own name
        name = Path(path).parent.name if Path(path).stem == "model" else Path(path).stem
        models[name if name not in models else str(path)] = model
    if args.full_size:
        paths = find_images(args.data) if args.data else sample_paths()
        images = full_size_images(paths[:args.limit], args.max_side)
        where = f"{args.data or 'scikit-image'} at their own size (at most {args.max_side} px)"
    elif args.data:
        images, _ = load_folder(args.data, args.image_size, progress=True)
        where = args.data
    else:
        images, _ = sample_images(args.image_size)
        where = "scikit-image's sample photographs"
    images = images[:args.limit]
    print(f"{len(images)} images from {where}; masks {', '.join(args.masks)}; "
          f"seeds {' '.join(map(str, args.seeds))}")
    rows, examples = evaluate(images, args.methods, models, args.masks, args.seeds,
                              tuple(args.image_size) if args.full_size else None)
    summary = summarise(rows)
    differences = paired_differences(rows)
    print(markdown(summary, differences))
    results = (rows, summary, differences, examples, args.masks, len(images), args.seeds)
    try:
        write_results(out, *results)
    except OSError as error:
        # The evaluation may have taken hours: never lose it to a folder that went away.
        fallback = Path(tempfile.mkdtemp(prefix="evaluate-results-"))
        write_results(fallback, *results)
        print(f"warning: could not write to {out} ({error.strerror or error}); the results are "
              f"in {fallback} instead", file=sys.stderr)
        out = fallback
    print(f"\nwrote {out}/results.csv, per_image.csv, differences.csv, psnr.png, examples.png, "
          f"large_holes.png")
    return summary


if __name__ == "__main__":
    cli.run(main, parse_args)
