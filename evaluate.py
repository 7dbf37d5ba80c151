"""Compare inpainting methods on clean paintings: damage each one with the fixed masks of every
kind and seed, fill the holes with each method, and measure the holes only.

Methods: telea and ns (OpenCV, radius 3), biharmonic (scikit-image), fsr (OpenCV-contrib's
frequency-selective reconstruction), patchmatch, pyramid (the weightless fill the learned models
start from), auto (restore.py's default: ns for thin regions, the first --models model for wide
ones, or the mean of the pyramid fill and Telea's without one), textured (auto with PatchMatch's
grain in the wide regions), and any saved model.keras. Known pixels are always kept, so every
figure is about the filled pixels: hole PSNR (dB), texture distance (utils/metrics.py's
texture_distance, issue 30: how far the fill's 7 x 7 patches, each less its mean colour, are
from the original's, sliced Wasserstein x 100 at the painting's size and halved; lower is
better, 0 = the original's own texture), hole SSIM, hole L1 and milliseconds per image (models:
measured in batches of 8; time the methods with nothing else running). Read PSNR and texture
together: a change that buys one with the other is not progress. Every method is also compared
with the best classical method of each mask kind (by PSNR), painting by painting: the mean
paired difference in hole PSNR, and in texture distance, with a 95% bootstrap interval over the
paintings (each painting's difference averaged over the seeds first, since a painting's seeds
are not independent).

--full-size fills each painting at its own resolution instead (its longer side at most
--max-side, 1600 px): the same masks, drawn at --image-size and enlarged to the painting
(nearest), every method run as restore.py runs it (a model through the loss-scale crops of
filling/fill.py), time per painting; the tables and intervals are the same.

Writes results.csv, per_image.csv, differences.csv (PSNR's and texture's), psnr.png,
examples.png (whole images) and large_holes.png (the largest hole of the first painting of each
large-hole kind, every pixel at its own size, where texture shows) to --out as one set, with
evaluate_record.json (the command, the paintings and their sha256, the methods, models, masks
and seeds, the project's version, and each output's sha256), and prints markdown tables. The set
appears whole or not at all: a full disk leaves an earlier run's set as it was and puts this
run's results in a temporary folder (named in the error). A second run into the same --out
replaces the set its record proves an earlier run wrote; any other file there is a user's, never
replaced without --overwrite (a link is replaced as a link, never followed). When --out is
inside --data, or is --data, evaluate.py's own results there are not paintings: they are left
out of the evaluation. A measure a painting does not have (its mask of that kind and seed lost
every hole pixel at this size; for the texture distance, fewer than 16 patch centres at either
scale) is an empty cell in the CSVs and n/a in the tables, never NaN. With --full-size,
paintings under 32 px a side are skipped with a warning.

examples:
  python evaluate.py --data ../shared/data/paintings/val --models pretrained/context_encoder.keras
  python evaluate.py --masks centre --seeds 0 --methods telea biharmonic
  python evaluate.py --data ../shared/data/paintings/val --full-size --masks centre blobs
"""
import contextlib
import csv
import json
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from filling import registry as fills
from filling.fill import classical, restore_image
from models.loading import load_inpainting_model, model_size, predict
from scans.outputs import record_json, tool_record
from training.data import sample_paths
from utils import cli
from utils.errors import ImageError, UserError, check_finite
from utils.files import (commit_set, partial_name, remove_stale_partials, sha256,
                         writable_folder, writing)
from utils.images import IMAGE_SIZE, find_images, load_image, parse_size, read_image, resize
from utils.masks import MASK_KINDS, damage, fixed_masks
from utils.metrics import (TEXTURE_MIN_PATCHES, hole_l1, hole_psnr, hole_ssim,
                           texture_distance)
from utils.plotting import grouped_bars, image_grid

METRICS = ("psnr", "texture", "ssim", "l1", "ms")
RESAMPLES = 10000  # bootstrap resamples of the paintings for each interval
OUTPUTS = ("results.csv", "per_image.csv", "differences.csv", "psnr.png", "examples.png",
           "large_holes.png")
RECORD = "evaluate_record.json"  # the sha256 of each file a run wrote: what it may replace
MIN_SIDE = 32  # the smallest painting measured at its own size: the smallest --image-size


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
    p.add_argument("--seeds", nargs="+", type=cli.positive(int, zero=True), default=[0, 1, 2],
                   help="mask seeds: each image is damaged once per kind and seed")
    p.add_argument("--image-size", type=parse_size, default="x".join(map(str, IMAGE_SIZE)),
                   metavar="HxW", help="size the paintings are resized to")
    p.add_argument("--limit", type=cli.positive(int), help="use only the first N paintings")
    p.add_argument("--full-size", action="store_true",
                   help="fill each painting at its own resolution (see above)")
    p.add_argument("--max-side", type=cli.within(int, MIN_SIDE, 10**6, "side in pixels"),
                   default=1600, metavar="PX",
                   help="with --full-size: paintings larger than this are shrunk to it")
    p.add_argument("--out", help="folder for the CSVs and charts (default runs/eval-<time>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files in --out that no earlier evaluate.py run wrote there (by "
                        "default the run stops before it starts); a link is replaced, never "
                        "followed")
    args = p.parse_args(argv)
    # the same method, kind or seed twice would only count its paintings twice
    for option in ("methods", "models", "masks", "seeds"):
        setattr(args, option, list(dict.fromkeys(getattr(args, option))))
    return args


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


def _label(method, sources):
    """How an error names a method: a model by its file, a method that uses one with it."""
    if method in sources:
        return f"the model {method} ({sources[method]})"
    if method in fills.METHODS and not fills.get(method).classical and sources:
        return f"{method} (with the model {next(iter(sources.values()))})"
    return method


def measure(output, image, mask, label):
    """A filled painting's hole measures {hole_pixels, psnr, texture, ssim, l1}; each None
    where the mask has no hole pixel, texture also where it has too few to compare (see
    utils/metrics.py). A measure that is not a number (a fill of values far outside [0, 1]) is
    refused, naming the fill: never written or reported."""
    values = {"psnr": hole_psnr(output, image, mask),
              "texture": texture_distance(output, image, mask),
              "ssim": hole_ssim(output, image, mask), "l1": hole_l1(output, image, mask)}
    for name, value in values.items():
        if value is not None and not np.isfinite(value):
            raise UserError(f"{label} gave a fill whose hole {name} is not a finite number "
                            f"(values far outside 0..1?); nothing was written")
    return {"hole_pixels": int(np.count_nonzero(np.asarray(mask) > 0.5)), **values}


def evaluate(images, methods, models, mask_kinds, seeds, full_size=None, sources=None):
    """Per-image rows {method, mask, seed, image, hole_pixels, psnr, texture, ssim, l1, ms}
    and one example per kind. full_size: the size masks are drawn at, for paintings at their own
    sizes (a list); every method and model then fills one painting at a time, as restore.py
    does. sources: {model name: its file}, to name a model whose output is refused (NaN or
    infinite values stop the evaluation: they would score as anything at all)."""
    sources = sources or {}
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
                    try:
                        for image, mask in zip(images, masks):
                            start = time.perf_counter()
                            outputs.append(fill(image, mask))
                            times.append(time.perf_counter() - start)
                    except UserError as error:  # filling/fill.py's check does not know the name
                        raise UserError(f"{_label(method, sources)}: {error}") from None
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
                    label = _label(name, sources)
                    for index, (out, image, mask) in enumerate(zip(outputs, images, masks)):
                        check_finite(out, label)
                        rows.append({"method": name, "mask": kind, "seed": seed, "image": index,
                                     **measure(out, image, mask, label),
                                     "ms": 1000 * times[index]})
                if kind not in examples:
                    examples[kind] = ([damage(images[0], masks[0])] +
                                      [outputs[0] for outputs, _ in results.values()] +
                                      [images[0]], masks[0])
    return rows, examples


def _average(values):
    """The mean of the values that are measured; None when none is."""
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def summarise(rows):
    """{(method, mask): {metric: mean}} in the order methods and masks first appear. A metric no
    painting of the group has (no hole pixel anywhere) is None."""
    groups = {}
    for row in rows:
        groups.setdefault((row["method"], row["mask"]), []).append(row)
    return {key: {m: _average([r[m] for r in group]) for m in METRICS}
            for key, group in groups.items()}


def paired_differences(rows, seed=0, metric="psnr", references=None):
    """{(method, mask): (mean, low, high, reference)}: each method's metric minus the reference
    method's of that mask kind, per painting averaged over the seeds, with a 95%
    percentile-bootstrap interval over the paintings (those measured in some seed). The
    reference is references[kind], or by default the classical method with the highest mean
    metric (for PSNR: the best classical). Empty without a classical method."""
    measured = {}
    for row in rows:
        if row[metric] is not None:
            measured.setdefault((row["method"], row["mask"]), {}).setdefault(
                row["image"], []).append(row[metric])
    per_painting = {key: {image: np.mean(v) for image, v in images.items()}
                    for key, images in measured.items()}
    rng = np.random.default_rng(seed)
    result = {}
    for kind in dict.fromkeys(k[1] for k in measured):
        classical_means = {m: np.mean(list(v.values())) for (m, k), v in per_painting.items()
                           if k == kind and m in fills.CLASSICAL}
        best = (references.get(kind) if references is not None else
                max(classical_means, key=classical_means.get) if classical_means else None)
        if (best, kind) not in per_painting:
            continue
        reference = per_painting[(best, kind)]
        for (method, k), values in per_painting.items():
            paintings = sorted(set(values) & set(reference)) if k == kind else []
            if not paintings:
                continue
            difference = np.array([values[i] - reference[i] for i in paintings])
            picks = rng.integers(0, len(difference), (RESAMPLES, len(difference)))
            low, high = np.percentile(difference[picks].mean(axis=1), [2.5, 97.5])
            result[(method, kind)] = (float(difference.mean()), float(low), float(high), best)
    return result


def texture_differences(rows, differences, seed=0):
    """paired_differences of the texture distance against the same reference as PSNR's
    differences (the best classical method by PSNR of each kind): lower is better."""
    references = {kind: reference for (_, kind), (*_, reference) in differences.items()}
    return paired_differences(rows, seed, "texture", references)


def _differences_table(differences,
                       title="hole PSNR minus the best classical (dB, 95% interval)"):
    """methods x mask kinds: the paired difference and its interval; the reference in the head."""
    kinds = list(dict.fromkeys(k[1] for k in differences))
    methods = list(dict.fromkeys(k[0] for k in differences))
    references = [next(v[3] for (_, k), v in differences.items() if k == kind) for kind in kinds]
    lines = [f"| {title} | " +
             " | ".join(f"{k} (vs {r})" for k, r in zip(kinds, references)) + " |",
             "|---" * (len(kinds) + 1) + "|"]
    for method in methods:
        cells = []
        for kind in kinds:
            if (method, kind) not in differences:
                cells.append("n/a")
                continue
            mean, low, high, reference = differences[(method, kind)]
            cells.append("(reference)" if method == reference else
                         f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def _cell(value, digits):
    """A measure as a table shows it: n/a where the paintings had no hole to measure."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pivot(summary, metric, title, best, digits=2):
    """methods x mask kinds for one metric; the best of each kind (by best(values)) in bold."""
    methods = list(dict.fromkeys(k[0] for k in summary))
    kinds = list(dict.fromkeys(k[1] for k in summary))
    lines = [f"| {title} | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    measured = {k: [summary[(m, k)][metric] for m in methods
                    if summary[(m, k)][metric] is not None] for k in kinds}
    winner = {k: best(values) if values else None for k, values in measured.items()}
    for method in methods:
        cells = []
        for kind in kinds:
            value = summary[(method, kind)][metric]
            cell = _cell(value, digits)
            cells.append(f"**{cell}**" if value is not None and value == winner[kind] else cell)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def markdown(summary, differences=None, texture=None):
    """The full table, then hole PSNR, its paired differences, the texture distance and its
    paired differences (texture) as methods x mask kinds."""
    lines = ["| method | mask | hole PSNR (dB) | texture (x100, lower better) | hole SSIM | "
             "hole L1 | ms/img |", "|---|---|---|---|---|---|---|"]
    for (method, kind), s in summary.items():
        lines.append(f"| {method} | {kind} | {_cell(s['psnr'], 2)} | {_cell(s['texture'], 3)} | "
                     f"{_cell(s['ssim'], 3)} | {_cell(s['l1'], 4)} | {s['ms']:.1f} |")
    lines += ["", *_pivot(summary, "psnr", "hole PSNR (dB)", max), ""]
    if differences:
        lines += [*_differences_table(differences), ""]
    lines += [*_pivot(summary, "texture", "texture distance (x100, lower better)", min, 3)]
    if texture:
        lines += ["", *_differences_table(texture, "texture distance minus the reference's "
                                                   "(x100, 95% interval; lower better)")]
    return "\n".join(lines)


def write_csv(path, rows):
    """rows (dicts) as CSV; a measure that is None (not measurable) is an empty cell."""
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


def _difference_rows(differences, texture):
    """differences.csv's rows: the PSNR difference and its interval, then the texture
    distance's against the same reference (empty cells where texture was not measured)."""
    rows = []
    for (m, k), (mean, low, high, ref) in differences.items():
        t_mean, t_low, t_high, _ = texture.get((m, k), (None, None, None, None))
        rows.append({"method": m, "mask": k, "reference": ref, "psnr_difference": mean,
                     "low_95": low, "high_95": high, "texture_difference": t_mean,
                     "texture_low_95": t_low, "texture_high_95": t_high})
    return rows


def _writers(rows, summary, differences, texture, examples, mask_kinds, n_images, seeds):
    """{output name: write(path)} of this run's results: differences.csv only with a classical
    method to compare with, psnr.png only for the kinds every method has a hole PSNR of,
    large_holes.png only with a large-hole kind whose example has a hole."""
    writers = {
        "per_image.csv": lambda path: write_csv(path, rows),
        "results.csv": lambda path: write_csv(path, [{"method": m, "mask": k, **s}
                                                     for (m, k), s in summary.items()])}
    if differences:
        writers["differences.csv"] = lambda path: write_csv(
            path, _difference_rows(differences, texture))
    names = list(dict.fromkeys(r["method"] for r in rows))
    kinds = [k for k in mask_kinds if all(summary[(n, k)]["psnr"] is not None for n in names)]
    if kinds:
        writers["psnr.png"] = lambda path: grouped_bars(
            {n: {k: summary[(n, k)]["psnr"] for k in kinds} for n in names}, kinds, names, path,
            "hole PSNR (dB)", f"hole PSNR, {n_images} images x {len(seeds)} seeds")
    titles = ["damaged", *names, "original"]
    writers["examples.png"] = lambda path: image_grid(
        [panels for panels, _ in examples.values()], titles, path)
    large = [largest_hole(panels, mask) for kind, (panels, mask) in examples.items()
             if kind in ("centre", "blobs") and (mask > 0.5).any()]
    if large:
        writers["large_holes.png"] = lambda path: image_grid(large, titles, path, max_width=None)
    return writers


def _plain_file(path):
    """Whether path is a plain file itself: not a link, a folder or a device."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _digest(path):
    """The sha256 of a plain file (never read through a link), or None."""
    try:
        return sha256(path) if _plain_file(path) else None
    except OSError:
        return None


def earlier_outputs(out):
    """{name: sha256} of the files in out that an earlier evaluate.py run wrote and that are
    still as it wrote them, its record among them: the record (a plain file, never a link) lists
    each file's sha256, including those it retired (an earlier set's files that it had none of,
    removed just after it was committed), and the file's bytes match."""
    record = _digest(out / RECORD)
    if record is None:
        return {}
    try:
        listed = json.loads((out / RECORD).read_text())
        listed = {**listed.get("retired_sha256", {}), **listed["sha256"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {RECORD: record, **{name: digest for name, digest in listed.items()
                               if name in OUTPUTS and _digest(out / name) == digest}}


def refuse_foreign_results(out, overwrite, own=None):
    """Stop if out holds an entry named like an output or the record that no evaluate.py run
    wrote (see earlier_outputs): a user's own results.csv is never replaced without --overwrite,
    a link is never followed (with --overwrite it is replaced as a link), and a folder is never
    replaced."""
    own = earlier_outputs(out) if own is None else own
    for name in (*OUTPUTS, RECORD):
        path = out / name
        if name in own or not os.path.lexists(path):
            continue
        if path.is_dir() and not path.is_symlink():
            raise UserError(f"{path} is a folder, and an output of evaluate.py has that name: "
                            f"move it or give another --out")
        if not overwrite:
            what = "is a link (never followed)" if path.is_symlink() else "exists"
            raise UserError(f"{path} {what} and no evaluate.py run wrote it: it is not "
                            f"replaced; give another --out, or pass --overwrite")


@contextlib.contextmanager
def _writing(path):
    """An OSError inside names path (the output, not its temporary), or for a rename the
    output it was renaming to."""
    try:
        yield
    except OSError as error:
        named = getattr(error, "filename2", None) or path
        raise OSError(error.errno, error.strerror or str(error), str(named)) from error


def write_results(out, overwrite, record, *results):
    """This run's results (see _writers) and its record into out as one set, and the names
    written: each file to a temporary of this process (partial_name: made exclusively, never
    through a link), the record with every output's sha256 last, then all renamed into place
    together (commit_set: a link at an output's name is replaced, never followed) once
    ownership is proven again under the folder's lock (a user's file may have appeared during
    the evaluation), and the earlier set's files that this one has none of removed. A failure
    (an OSError naming the output, or a UserError for a user's file) removes this run's
    temporaries and leaves out as it was."""
    writers = _writers(*results)
    own = earlier_outputs(out)
    retired = {name: own[name] for name in OUTPUTS if name in own and name not in writers}
    with writing(out):
        temporary = {}
        try:
            for name, write in writers.items():
                with _writing(out / name):
                    temporary[name] = partial_name(out / name)
                    write(temporary[name])
            with _writing(out / RECORD):
                temporary[RECORD] = partial_name(out / RECORD)
                temporary[RECORD].write_text(record_json({
                    **record, "sha256": {name: sha256(temporary[name]) for name in writers},
                    "retired_sha256": retired}))
            with _writing(out):
                commit_set([(temporary[name], out / name) for name in temporary],
                           lambda: refuse_foreign_results(out, overwrite))
        finally:
            for path in temporary.values():
                path.unlink(missing_ok=True)
    for name, digest in retired.items():  # listed by the new record: a kill here leaves them ours
        if _digest(out / name) == digest:
            with contextlib.suppress(OSError):
                (out / name).unlink()
    return list(writers)


def save_results(out, overwrite, record, *results):
    """write_results into out, and the names written; if that fails, the same set into a new
    temporary folder (the evaluation may have taken hours) and a UserError naming the file that
    failed and where the results are instead: out is as it was."""
    try:
        return write_results(out, overwrite, record, *results)
    except OSError as error:
        problem = f"could not write {error.filename or out} ({error.strerror or error})"
    except UserError as error:  # a user's file appeared in out during the evaluation
        problem = str(error)
    fallback = None
    try:
        fallback = Path(tempfile.mkdtemp(prefix="evaluate-results-"))
        write_results(fallback, False, record, *results)
        where = f"this run's results are in {fallback} instead"
    except OSError as error:
        where = (f"this run's results are only in the tables above (could not write "
                 f"{error.filename} either)")
        with contextlib.suppress(OSError, TypeError):
            fallback.rmdir()  # empty: write_results removed its temporaries
    raise UserError(f"{problem}; {out} is as it was; {where}")


def painting_paths(data, out):
    """The images under data, less evaluate.py's own results: everything under out when out is
    inside data, and the files named like its outputs in out or in a folder that holds a record
    of an earlier run (out may be data itself: a second run never measures its own charts)."""
    out = out.resolve()
    nested = Path(data).resolve() in out.parents
    paths, ours = [], []
    for path in find_images(data):
        folder = path.parent.resolve()
        under_out = nested and (folder == out or out in folder.parents)
        named = path.name in OUTPUTS and (folder == out or _plain_file(folder / RECORD))
        (ours if under_out or named else paths).append(path)
    if ours:
        print(f"note: {len(ours)} images under {data} are evaluate.py's own results ({out} or an "
              f"earlier run's): they are not evaluated", file=sys.stderr)
    if not paths:
        raise UserError(f"no painting to evaluate under {data}: " + (
            "only evaluate.py's own results" if ours else
            "no image (JPEG, PNG, TIFF, BMP, WebP) there"))
    return paths


def _own_size(image, max_side):
    """image at its own resolution, shrunk (area) where its longer side exceeds max_side."""
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    return resize(image, (max(1, round(image.shape[0] * scale)),
                          max(1, round(image.shape[1] * scale))))


def read_paintings(paths, limit=None, size=None, max_side=None):
    """(images, their paths): the first limit readable paintings of paths, each resized to size
    (height, width; an array), or else at its own resolution, shrunk where its longer side
    exceeds max_side (a list). Skipped with a warning naming them: unreadable files, paintings
    holding NaN, and at their own size those under MIN_SIDE a side (no hole to measure)."""
    images, kept = [], []
    for path in tqdm(paths, desc="loading", unit="img", leave=False):
        if limit and len(images) == limit:
            break
        try:
            image = load_image(path, size) if size else _own_size(read_image(path), max_side)
        except ImageError as error:
            tqdm.write(f"warning: skipping {error}", file=sys.stderr)
            continue
        height, width = image.shape[:2]
        problem = ("it holds NaN or infinite values" if not np.isfinite(image).all() else
                   f"{height} x {width} px at --full-size, too small to measure a hole in (at "
                   f"least {MIN_SIDE} px a side)" if not size and min(height, width) < MIN_SIDE
                   else None)
        if problem:
            tqdm.write(f"warning: skipping {path}: {problem}", file=sys.stderr)
        else:
            images.append(image)
            kept.append(Path(path))
    if not images:
        raise UserError("no painting to evaluate: every one was unreadable or skipped (see "
                        "the warnings above)")
    return (np.stack(images) if size else images), kept


def load_models(paths, methods, size=None):
    """({name: model}, {name: its file}): runs/<name>/model.keras named by its run, another file
    by its own name, a name that a method or another model has by its path. size: the
    --image-size each must work at (None with --full-size, where any model works)."""
    models, sources = {}, {}
    for path in paths:
        model = load_inpainting_model(path)
        if size and model_size(model) != tuple(size):
            raise UserError(f"{path} works at {model_size(model)}, not at --image-size {size}")
        path = Path(path)
        name = path.resolve().parent.name if path.stem == "model" else path.stem
        name = str(path) if name in models or name in methods else name
        models[name], sources[name] = model, str(path)
    return models, sources


def _file_record(path):
    """Which file, exactly: its path, size and sha256."""
    path = Path(path)
    try:
        return {"path": str(path.resolve()), "bytes": path.stat().st_size, "sha256": sha256(path)}
    except OSError as error:
        return {"path": str(path.resolve()), "unreadable": error.strerror or str(error)}


def run_record(args, paths, sources):
    """What the record says of a run: the tool (the project's version, the libraries, the
    command), the paintings and models (path, size, sha256) and every option that decides the
    numbers; write_results adds each output's sha256."""
    return {"tool": "evaluate.py", **tool_record(),
            "data": str(Path(args.data).resolve()) if args.data else
            "scikit-image's sample photographs",
            "paintings": [_file_record(path) for path in paths],
            "models": {name: _file_record(path) for name, path in sources.items()},
            "methods": args.methods, "masks": args.masks, "seeds": args.seeds,
            "image_size": list(args.image_size), "full_size": args.full_size,
            "max_side": args.max_side, "limit": args.limit}


def main(args):
    out = Path(args.out or f"runs/eval-{time.strftime('%Y%m%d-%H%M%S')}")
    writable_folder(out)  # a bad --out stops the run before the evaluation
    # recovery first: what a killed run left, its set completed and its temporaries removed
    remove_stale_partials(out, lambda name: name in (*OUTPUTS, RECORD))
    refuse_foreign_results(out, args.overwrite)
    size = None if args.full_size else tuple(args.image_size)
    models, sources = load_models(args.models, args.methods, size)
    paths = painting_paths(args.data, out) if args.data else sample_paths()
    images, paths = read_paintings(paths, args.limit, size, args.max_side)
    where = args.data or "scikit-image's sample photographs"
    if args.full_size:
        where += f" at their own size (at most {args.max_side} px)"
    print(f"{len(images)} images from {where}; masks {', '.join(args.masks)}; "
          f"seeds {' '.join(map(str, args.seeds))}")
    record = run_record(args, paths, sources)
    rows, examples = evaluate(images, args.methods, models, args.masks, args.seeds,
                              tuple(args.image_size) if args.full_size else None, sources)
    summary = summarise(rows)
    differences = paired_differences(rows)
    texture = texture_differences(rows, differences)
    print(markdown(summary, differences, texture))
    lost = {(r["mask"], r["seed"], r["image"]) for r in rows if not r["hole_pixels"]}
    if lost:
        print(f"note: {len(lost)} of {len(args.masks) * len(args.seeds) * len(images)} damaged "
              f"paintings lost every hole pixel at their size: their hole measures are n/a "
              f"(empty cells in the CSVs)", file=sys.stderr)
    small = {(r["mask"], r["seed"], r["image"]) for r in rows
             if r["hole_pixels"] and r["texture"] is None}
    if small:
        print(f"note: {len(small)} damaged paintings have too few hole pixels away from the "
              f"edge to compare textures (under {TEXTURE_MIN_PATCHES} at either scale): their "
              f"texture is n/a", file=sys.stderr)
    written = save_results(out, args.overwrite, record, rows, summary, differences, texture,
                           examples, args.masks, len(images), args.seeds)
    print(f"\nwrote {out}/{', '.join(written)} and {RECORD}")
    return summary


if __name__ == "__main__":
    cli.run(main, parse_args)
