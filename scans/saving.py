"""A restored painting's four files, written as a set: the restored painting (lossless, at its
own depth, with its alpha, profile and metadata), the mask, the figure with the mask over the
painting, and the record of how it was made. The one naming rule, record and writer that
restore.py, pixel_diff.py and the workbench (app.py) save through."""
import json
from pathlib import Path

import numpy as np

from scans.outputs import input_record, record_json, write_atomically, write_text
from scans.scan import SUFFIX, Scan, write_scan
from utils.errors import UserError
from utils.plotting import restoration_figure

OUTPUT_ENDINGS = ("_restored", "_mask", "_figure", "_record")  # what output_paths names end in


def is_output_name(path):
    """Whether a file is named like one of this tool's outputs (a folder scan skips those)."""
    return any(path.stem.endswith(ending) for ending in OUTPUT_ENDINGS)


def output_set(restored):
    """{kind: path} of the four files beside a restored painting's path: for
    <stem>_restored.png (or any other name, <stem>.tif say) <stem>_mask.png, <stem>_figure.jpg
    and <stem>_record.json."""
    restored = Path(restored)
    stem = restored.stem.removesuffix("_restored") or restored.stem
    return {"restored": restored, "mask": restored.with_name(f"{stem}_mask.png"),
            "figure": restored.with_name(f"{stem}_figure.jpg"),
            "record": restored.with_name(f"{stem}_record.json")}


def output_paths(out, files, fmt):
    """{painting: {kind: path}} for the four outputs of each painting (named by its stem)."""
    stems = [path.stem for path in files]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        raise UserError(f"several inputs are named {sorted(duplicates)[0]}: their outputs would "
                        f"overwrite each other; restore them into separate folders")
    return {path: output_set(Path(out) / f"{path.stem}_restored{SUFFIX[fmt]}") for path in files}


def recorded_outputs(folder):
    """The files that earlier runs of these tools wrote into folder, as their records list them."""
    written = set()
    for record in Path(folder).glob("*_record.json"):
        try:
            written.update(Path(p) for p in json.loads(record.read_text())["outputs"].values())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return written


def foreign_files(paths):
    """The paths among paths that exist and that no record of these tools lists as its output:
    a user's own files (a hand-drawn <name>_mask.png beside the painting), never to be
    replaced."""
    ours = set()
    for folder in {Path(p).resolve().parent for p in paths}:
        ours |= recorded_outputs(folder)
    return [Path(p) for p in paths if Path(p).exists() and Path(p).resolve() not in ours]


def restoration_record(painting, scan, mask, fraction, method, model, settings, seconds, tool):
    """What every record says, whichever tool made the file: the input (which file, exactly, and
    what reading it changed), where the mask came from, the share filled, the method, the model
    ({path, sha256} or None), the settings, the seconds each phase took and the tool."""
    return {"input": input_record(painting, scan), "mask": mask, "masked_fraction": fraction,
            "method": method, "model": model, "settings": settings, "seconds": seconds,
            "tool": tool}


def write_restoration(outputs, scan, mask, before, method, fmt, make_record):
    """Write the restored scan, the mask (H, W; nonzero = filled), the figure (before: the
    painting's thumbnail before filling) and the record to outputs {kind: path}, each under a
    temporary name and renamed. make_record() is called once the three images are written (so
    it can time them) and returns the record; the outputs' paths are added to it. A failure
    removes every file of the set."""
    mask = (np.asarray(mask) > 0).astype(np.uint8)
    writers = {"restored": lambda p: write_scan(p, scan, fmt),
               "mask": lambda p: write_scan(p, Scan((mask * np.uint8(255))[..., None]), "png"),
               "figure": lambda p: restoration_figure(p, before, mask, scan.colour, method)}
    try:
        for kind, write in writers.items():
            write_atomically(outputs[kind], write)
        record = make_record()
        record = {"input": record.pop("input"),
                  "outputs": {kind: str(p.resolve()) for kind, p in outputs.items()}, **record}
        write_text(outputs["record"], record_json(record))
    except BaseException:
        # A painting's files come as a set: never a restored file without its mask and record.
        for written in outputs.values():
            written.unlink(missing_ok=True)
        raise
