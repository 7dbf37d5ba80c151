"""Restore damaged paintings at their own resolution: find the paint losses (the damage
detector by default, or the losses you click with --point, or your own masks),
fill them, and write the restored painting, its mask, a figure with the mask over the painting
and a record of how it was made.

Every pixel outside the mask is kept exactly, at the painting's own depth (8 or 16 bits), with
its alpha, its gray or colour, its ICC colour profile and its EXIF metadata; inputs are never
written to. For each painting OUT holds <name>_restored.png (or .tif with --format tiff),
<name>_mask.png (white = filled), <name>_figure.jpg and <name>_record.json (the input's sha256,
the method, the model and its sha256, every setting, the project version, the time taken).

--method auto (the default) fills thin damage (specks, cracks, strokes) with a biharmonic and
Navier-Stokes blend and wide losses with the learned model (--model), then lays half of the
painting's own brushwork on them (the strokes of nearby paint coloured like the fill);
--method brushwork lays all of it (the most texture, less PSNR), --method smooth none (the
highest PSNR, a smear), and --method textured the painting's grain from PatchMatch (slower).

A folder is restored by --jobs worker processes at once (default: one per core), each loading
the models once and holding its share of the memory. A painting that fails in a batch (a
truncated file, too large for memory) is reported and skipped; the others are restored, and the
run ends with a summary and exit status 2.

examples:
  python restore.py painting.jpg                            # -> restored/painting_restored.png
  python restore.py scans/ -o restored_scans --format tiff  # every image in a folder
  python restore.py archive/ -o out --jobs 4                # four paintings at a time
  python restore.py painting.jpg --mask damage.png --method telea
  python restore.py scans/ --mask masks/ -o out             # masks/<name>_mask.png or <name>.png
  python restore.py fresco.jpg --mask losses.png --mask-invert  # a mask with its losses black
  python restore.py page.png --point 410,220 --point 95,630 # the two losses clicked
  python restore.py page.png --point 410,220 --similar      # and every loss like it
  python restore.py mural.jpg --grow 2                      # a wider margin around each loss
  python restore.py painting.jpg --method brushwork         # the most of the paint's strokes
"""
import itertools
import multiprocessing
import os
import resource
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm import tqdm

from detection import registry as detections
from detection.detect import Detector
from detection.maps import ANALYSIS_SIDE, DETAIL_FROM
from filling import registry as fills
from restoration import pipeline
from scans.outputs import check_outputs, tool_record
from scans.saving import (OUTPUT_ENDINGS, is_output_name, output_paths, place, recorded_outputs,
                          refuse_foreign)
from scans.scan import (FORMATS, available_memory, header, regular_file,
                        release_freed_memory)
from utils import cli, env
from utils.errors import ImageError, UserError
from utils.files import remove_stale_partials, same_file, writable_folder
from utils.images import IMAGE_SUFFIXES, find_images

# The memory the default --jobs leaves each worker at least: a worker restoring 1600 x 1200
# paintings peaked at 1.1 GB (bench/bench_jobs.py).
WORKER_MEMORY = 2e9


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("paintings", nargs="+", metavar="PAINTING", help="image files or folders")
    p.add_argument("-o", "--out", default="restored", help="folder for the outputs")
    p.add_argument("--format", choices=FORMATS, default="png",
                   help="the restored painting's format (both lossless; TIFF as archives keep "
                        "scans)")
    p.add_argument("--mask", metavar="FILE|DIR", help="your own damage mask (white or nonzero = "
                   "missing) instead of automatic detection: a file for one painting, or a "
                   "folder holding <name>_mask.png or <name>.png for each painting")
    p.add_argument("--mask-invert", action="store_true",
                   help="the mask files mark losses black on white (as many conservators draw "
                        "them)")
    p.add_argument("--allow-large-mask", action="store_true",
                   help=f"fill a mask over {round(100 * pipeline.LARGE_SHARE)}%% of a painting (refused by "
                        f"default: such a fill invents most of the picture)")
    p.add_argument("--warn-share", type=cli.fraction, default=pipeline.WARN_SHARE,
                   metavar="SHARE",
                   help="warn when a mask covers more than this share of a painting (0-1)")
    p.add_argument("--method", default="auto", metavar="METHOD",
                   help=f"the fill: {fills.describe()}; or a shipped model alone "
                        f"({', '.join(fills.SHIPPED_MODELS)}), or a model PATH.keras from the "
                        f"train scripts")
    p.add_argument("--model", default=str(fills.DEFAULT_MODEL), metavar="PATH",
                   help=f"the model that {', '.join(fills.names('uses_model'))} use for wide "
                        f"losses: a file or a shipped model's name ('none': the pyramid fill)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing files that no earlier run of this tool made from the "
                        "same painting (by default they are kept, and that painting skipped)")
    p.add_argument("--radius", type=cli.within(int, 1, 100, "radius in pixels"), default=3,
                   help=f"{', '.join(fills.names('radius'))}: neighbourhood radius")
    p.add_argument("--thin-radius", type=cli.within(float, 0.5, 1000.0, "radius in pixels"),
                   default=6.0,
                   help=f"{', '.join(fills.names('uses_model'))}: regions whose every pixel lies "
                        f"within this many pixels of paint count as thin")
    p.add_argument("--jobs", type=cli.positive(int), metavar="N",
                   help="paintings restored at once, each in a worker process of its own with "
                   "its own copy of the models and an Nth of the memory (default: one per core, "
                   f"as many as the available memory gives {WORKER_MEMORY / 1e9:.0f} GB each)")
    p.add_argument("--max-pixels", type=cli.positive(int), metavar="N",
                   help="largest painting to restore, in pixels (default: what this machine's "
                        "available memory allows, at about 20 bytes a pixel for 8-bit and 26 "
                        "for 16-bit, plus 1 GB)")
    d = p.add_argument_group("damage detection (without --mask; see the README)")
    defaults = Detector()
    d.add_argument("--detect", choices=detections.DETECTIONS, default=defaults.method,
                   help=detections.describe())
    d.add_argument("--point", action="append", default=[], metavar="X,Y", type=cli.point,
                   help="a click on a loss, in the painting's pixels (repeatable; one painting): "
                        "the loss under it is selected, and nothing it is not connected to")
    d.add_argument("--point-out", action="append", default=[], metavar="X,Y", type=cli.point,
                   help="a click on paint that no --point may select (repeatable)")
    d.add_argument("--similar", action="store_true",
                   help="with --point: also select every loss like the clicked ones across the "
                        "painting (a classifier of this painting's pixels fitted on the clicks "
                        "against the paint, and the paint under --point-out)")
    d.add_argument("--grow", type=cli.within(int, -1000, 1000, "number of pixels"),
                   default=defaults.grow, metavar="PIXELS",
                   help="widen the found mask by this many pixels (negative: narrow it)")
    d.add_argument("--threshold", type=cli.fraction, default=defaults.threshold,
                   help="auto, learned and colour: how sure the network must be that a pixel is a "
                        "loss (0-1; lower finds more; auto's pale specks follow it: 35 L* "
                        "lighter than the paint around at 0.95)")
    d.add_argument("--min-share", type=cli.fraction, default=defaults.min_share, metavar="SHARE",
                   help="auto, learned and colour: a painting counts as damaged, and any pixel is "
                        "marked, only if at least this share of it is a loss the network is sure "
                        "of (0: always mark; auto's pale specks are marked either way)")
    d.add_argument("--min-area", type=cli.positive(int), default=defaults.min_area,
                   help="smallest loss kept, in pixels of the copy analysed (at most "
                        f"{ANALYSIS_SIDE} pixels a side, or --detail-side's from "
                        f"{DETAIL_FROM} up)")
    d.add_argument("--detail-side", type=cli.within(int, 0, 1_000_000, "number of pixels"),
                   default=defaults.detail_side, metavar="PIXELS",
                   help="auto, learned and colour: the network reads the painting on a copy of "
                        f"at most {ANALYSIS_SIDE} pixels a side (wide losses) and on a detail copy "
                        "of at most this many, in tiles (flakes a few pixels wide); 0 reads the "
                        "painting at its own size: slower, for flakes of 1-3 pixels on a large "
                        "scan")
    d.add_argument("--detector", default=defaults.model, metavar="PATH",
                   help="auto, learned and colour: the detector model (train_detector.py writes "
                        "one)")
    return p.parse_args(argv)


def is_output(path, folder, out):
    """Whether a file found in folder is one this tool wrote: named like an output, or inside the
    output folder when that lies within folder."""
    out, folder = out.resolve(), folder.resolve()
    inside_out = out != folder and folder in out.parents and out in path.resolve().parents
    return inside_out or is_output_name(path)


def find_paintings(paths, out):
    """(paintings, protected, unreadable): every painting named, folders expanded, skipping this
    tool's own outputs; protected lists the files skipped that no earlier run wrote (a user's own
    <name>_mask.png, say), which must not be overwritten either; unreadable {painting: why} the
    paintings whose header cannot be read (each is skipped with its line; the others go on)."""
    files, skipped, protected, unreadable = [], 0, [], {}
    for path in map(Path, paths):
        if path.is_dir():
            every = find_images(path)
            found = [f for f in every if not is_output(f, path, out)]
            ours = recorded_outputs(path) | recorded_outputs(out)
            protected += [f for f in every if f not in found and place(f) not in ours]
            skipped += len(every) - len(found)
            if not found:
                raise UserError(f"{path}: no images in this folder")
            files += found
        elif path.exists():
            files.append(regular_file(path))
        else:
            raise UserError(f"{path}: no such file or folder")
    if skipped:
        print(f"skipped {skipped} file(s) named like this tool's outputs "
              f"({', '.join('*' + e for e in OUTPUT_ENDINGS)}, or inside {out})")
    for path in files:  # the one reader's header check; a file damaged further in (a truncated
        try:              # PNG) fails on its own when it is read, and only it is skipped
            header(path)
        except ImageError as error:
            unreadable[path] = str(error)
    return files, protected, unreadable


def find_masks(mask, files):
    """{painting: its mask file} for --mask FILE (one painting) or --mask DIR."""
    if mask is None:
        return {}
    mask = Path(mask)
    if mask.is_file():
        if len(files) != 1:
            raise UserError(f"--mask {mask} is one painting's mask, but {len(files)} paintings "
                            f"were given: pass a folder of masks instead")
        return {files[0]: mask}
    if not mask.is_dir():
        raise UserError(f"mask {mask}: no such file or folder")
    masks = {}
    for path in files:
        candidates = [mask / f"{path.stem}_mask{s}" for s in sorted(IMAGE_SUFFIXES)] + \
                     [mask / f"{path.stem}{s}" for s in sorted(IMAGE_SUFFIXES)]
        found = [c for c in candidates if c.is_file() and not same_file(c, path)]
        if not found:
            raise UserError(f"no mask for {path.name} in {mask} (looked for {path.stem}_mask.png "
                            f"and {path.stem}.png)")
        masks[path] = found[0]
    return masks


def prepare_output_folder(out):
    """The output folder, made and writable, with what a killed run left there rolled forward
    (its set completed) and its temporaries removed."""
    remove_stale_partials(writable_folder(out), is_output_name)


def restore_one(path, outputs, args, filler, detector, tool, mask_path=None, budget=None):
    """Restore one painting and write its four files (restoration/pipeline.py); returns the
    share filled. budget: the bytes of memory this process may use (a worker's share), None for
    what is available."""
    clock = pipeline.Clock()
    scan = pipeline.read_painting(path, args.max_pixels, budget)
    for warning in scan.warnings:  # said here, and in the record's input conversions
        tqdm.write(cli.printable(f"warning: {path}: {warning}"), file=sys.stderr)
    clock.lap("read")
    if mask_path is not None:
        mask = pipeline.read_mask(mask_path, path, scan, args.mask_invert)
        source = pipeline.mask_file_source(mask_path)
    else:
        mask = detector(scan.colour)
        source = {"source": "detected", "detector": detector.settings()}
    hint = (f"check {mask_path.name} (white = loss; --mask-invert for losses drawn black)"
            if mask_path is not None else pipeline.NOTHING_HINT)
    fraction, warning = pipeline.check_mask(mask, scan, args.allow_large_mask, args.warn_share,
                                            hint)
    if warning:
        tqdm.write(cli.printable(f"warning: {path}: {warning} ({outputs['mask'].name})"),
                   file=sys.stderr)
    clock.lap("mask")
    release_freed_memory()  # the detection's, before the fill's peak
    restored, before = pipeline.restore(scan, mask, filler, in_place=True)
    pipeline.save(outputs, restored, mask, before, filler, args.format, source, fraction,
                  clock.lap("fill"), tool, path, overwrite=args.overwrite)
    return fraction


def main(args):
    out = Path(args.out)
    files, protected, unreadable = find_paintings(args.paintings, out)
    if len(files) == 1 and unreadable:
        raise ImageError(unreadable[files[0]])
    if args.mask_invert and not args.mask:
        raise UserError("--mask-invert reads the masks given with --mask: give one")
    masks = find_masks(args.mask, files)
    if (args.point or args.point_out) and len(files) != 1:
        raise UserError(f"--point marks losses on one painting, but {len(files)} were given")
    if (args.similar or args.point_out) and not args.point:
        raise UserError("--similar and --point-out go with --point (a click on a loss)")
    detector = Detector(args.detect, points=tuple(args.point), points_out=tuple(args.point_out),
                        similar=args.similar, grow=args.grow, threshold=args.threshold,
                        min_area=args.min_area, min_share=args.min_share, model=args.detector,
                        detail_side=args.detail_side)
    outputs = output_paths(out, files, args.format)
    inputs = [*files, *masks.values(), *protected]
    for name in (args.method, args.model, args.detector):
        if name.lower().endswith(".keras"):
            inputs.append(name)
    check_outputs([p for paths in outputs.values() for p in paths.values()], inputs)
    if out.is_dir():  # recovery first: a killed run's set is completed before it is judged
        remove_stale_partials(out, is_output_name)
    # No file this tool did not make from the same painting is replaced (--overwrite aside):
    # such a painting is skipped, with its line, and the others go on.
    refused = dict(unreadable)
    ours = recorded_outputs(out) if out.is_dir() else {}  # hashed once, not per painting
    for path in files:
        try:
            refuse_foreign(outputs[path].values(), path, args.overwrite, ours)
        except UserError as error:
            refused.setdefault(path, str(error))
    if len(files) == 1 and refused:
        raise UserError(refused[files[0]])
    todo = [path for path in files if path not in refused]
    report = [(path, ("failed", reason)) for path, reason in refused.items()]
    jobs = min(args.jobs or default_jobs(), max(1, len(todo)))
    detect = any(path not in masks for path in todo)
    if todo and jobs == 1:
        tools = load_tools(args, detector, detect=detect)
        prepare_output_folder(out)
        report = itertools.chain(report, _restore_here(todo, outputs, masks, args, tools))
    elif todo:
        prepare_output_folder(out)
        report = itertools.chain(report, _restore_in_workers(todo, outputs, masks, args, detector,
                                                             jobs, detect=detect, out=out))
    failures, empty = [], []
    for path, (outcome, detail) in report:
        if outcome == "restored":
            tqdm.write(cli.printable(f"{path}: filled {detail:.2%} of the painting -> "
                                     f"{outputs[path]['restored']}"))
        elif outcome == "nothing":  # not a failure: a clean painting, or a threshold too high
            empty.append(path)
            tqdm.write(cli.printable(detail))
        elif len(files) == 1:
            raise UserError(detail)
        else:
            failures.append(path)
            tqdm.write(cli.printable(f"error: {detail} (skipped)"), file=sys.stderr)
    if empty and len(files) > 1:
        tqdm.write(f"{len(empty)} of {len(files)} paintings had no loss found; nothing was "
                   f"written for them")
    if failures:
        raise UserError(f"{len(failures)} of {len(files)} paintings failed and were skipped "
                        f"({', '.join(p.name for p in failures)}); the other "
                        f"{len(files) - len(failures)} were done into {out}")


RETRIES = 1  # a painting whose worker died is tried once more before it counts as failed


def default_jobs():
    """One worker per core, but no more than the available memory gives WORKER_MEMORY each."""
    cores, memory = len(os.sched_getaffinity(0)), available_memory()
    return cores if memory is None else max(1, min(cores, int(memory // WORKER_MEMORY)))


def needs_tensorflow(args, detector, detect=True):
    """Whether restoring loads a network: the detector's (to detect) or a model's for the
    fill. Classical fills with white detection or clicks never start TensorFlow."""
    network = detect and detections.DETECTIONS[detector.method].network and not detector.points
    return network or fills.model_path(args.method, args.model)[1] is not None


def load_tools(args, detector, detect=True):
    """What restoring needs loaded, once per process: (the fill, the detector, the tool's
    record); a wrong model or detector file is one error here, before any painting."""
    if detect:  # loaded, and its first calls made (TensorFlow's start-up), before any painting
        detector.warm_up()
    filler = pipeline.Filler.load(args.method, args.model, args.radius, args.thin_radius)
    return filler, detector, tool_record()


def _restore_one(path, outputs, args, tools, mask_path, budget=None):
    """("restored", the share filled), ("nothing", the line that says so) or ("failed", why)."""
    try:
        return "restored", restore_one(path, outputs, args, *tools, mask_path=mask_path,
                                       budget=budget)
    except pipeline.NothingFound as error:
        return "nothing", f"{path}: {error}"
    except (UserError, OSError, MemoryError) as error:
        reason = _reason(error)  # every line names its painting (a full disk's too)
        return "failed", reason if reason.startswith(str(path)) else f"{path}: {reason}"


def _restore_here(files, outputs, masks, args, tools):
    """Restore files in this process, one after another: yields (path, _restore_one's)."""
    for path in tqdm(files, desc="restoring", unit="painting", disable=len(files) == 1):
        yield path, _restore_one(path, outputs[path], args, tools, masks.get(path))


_WORKER = {}  # a worker process's loaded tools and memory budget


def _start_worker(args, detector, detect, threads, budget, begun=None):
    """A worker process's start: its share of the cores and the memory, and the models, loaded
    once for all the paintings it restores (TensorFlow only when a network is used)."""
    import cv2
    cv2.setNumThreads(threads)
    if needs_tensorflow(args, detector, detect):
        env.prepare(restoring=True)  # a spawned worker starts TensorFlow as the main would
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    _WORKER.update(args=args, budget=budget, begun=begun)
    try:
        _WORKER["tools"] = load_tools(args, detector, detect)
    except UserError as error:  # told with the first painting, and the run stops
        _WORKER["setup_error"] = str(error)


def _restore_in_worker(path, outputs, mask_path):
    """(_restore_one's outcome and detail, whether the worker could not start, (this worker's
    process id, its peak memory so far))."""
    if "setup_error" in _WORKER:
        outcome = ("failed", _WORKER["setup_error"])
    else:
        if _WORKER.get("begun") is not None:
            _WORKER["begun"].put(str(path))
        outcome = _restore_one(path, outputs, _WORKER["args"], _WORKER["tools"], mask_path,
                               _WORKER["budget"])
    return outcome, "setup_error" in _WORKER, (os.getpid(), peak_memory())


def peak_memory():
    """This process's peak resident memory so far, in bytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _restore_in_workers(files, outputs, masks, args, detector, jobs, detect, out):
    """Restore files in jobs worker processes, the progress bar over all of them: yields as
    _restore_here does, in the order the paintings finish. A worker that dies (killed, out of
    memory) costs only its own painting: when a pool breaks, the paintings its workers had
    begun are suspects, each tried again alone in a pool of one (so that a second death is
    surely its own), the others go to a new pool uncounted; the set a dead worker was
    committing is completed or left as it was, and its temporaries are removed
    (utils/files.py); a painting whose worker died RETRIES + 1 times is reported as failed."""
    memory = available_memory()
    budget = None if memory is None else memory // jobs
    threads = max(1, len(os.sched_getaffinity(0)) // jobs)
    deaths = {path: 0 for path in files}
    todo, suspects, peaks = list(files), [], {}
    # "spawn": a fork of a process that has started TensorFlow's threads can deadlock
    context = multiprocessing.get_context("spawn")
    begun = context.SimpleQueue()  # the paintings the workers have begun, as they begin them
    with tqdm(total=len(files), desc=f"restoring ({jobs} workers)", unit="painting") as bar:
        while todo or suspects:
            batch = [suspects.pop(0)] if suspects else todo
            with ProcessPoolExecutor(min(jobs, len(batch)), mp_context=context,
                                     initializer=_start_worker,
                                     initargs=(args, detector, detect, threads, budget,
                                               begun)) as pool:
                pending = {pool.submit(_restore_in_worker, path, outputs[path],
                                       masks.get(path)): path for path in batch}
                if batch is todo:
                    todo = []
                broken = []
                for done in as_completed(pending):
                    path = pending[done]
                    try:
                        outcome, setup, (pid, peak) = done.result()
                    except BrokenProcessPool:
                        broken.append(path)
                        continue
                    if setup:
                        pool.shutdown(cancel_futures=True)
                        raise UserError(outcome[1])
                    peaks[pid] = max(peak, peaks.get(pid, 0))
                    bar.update()
                    yield path, outcome
            started = set()
            while not begun.empty():
                started.add(begun.get())
            for path in broken:
                if str(path) not in started:
                    todo.append(path)  # never begun: no fault of its own
                    continue
                deaths[path] += 1
                if deaths[path] > RETRIES:
                    bar.update()
                    yield path, ("failed", f"{path}: its worker process died {deaths[path]} "
                                           f"times (killed, or out of memory?); try fewer "
                                           f"--jobs, or --jobs 1")
                else:
                    suspects.append(path)
            if broken:
                remove_stale_partials(out, is_output_name)  # what the dead worker left
                tqdm.write(f"warning: a worker process died (killed, or out of memory?); "
                           f"{len(todo) + len(suspects)} painting(s) go to new workers",
                           file=sys.stderr)
    tqdm.write(f"restored by {len(peaks)} worker process(es) of --jobs {jobs}; peak memory of "
               f"each: {', '.join(f'{p / 1e9:.2f}' for p in sorted(peaks.values()))} GB (this "
               f"process: {peak_memory() / 1e9:.2f} GB)")


def _reason(error):
    if isinstance(error, MemoryError):
        return "out of memory (try --max-pixels, or a machine with more memory)"
    if isinstance(error, OSError) and not isinstance(error, UserError):
        where = f"{error.filename}: " if error.filename else ""
        return f"cannot write: {where}{error.strerror or error}"
    return str(error)


if __name__ == "__main__":
    cli.run(main, parse_args, restoring=True)  # restoring: see utils/env.py
