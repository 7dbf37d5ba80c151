"""A restored painting's four files, written as a set: the restored painting (lossless, at its
own depth, with its alpha, profile and metadata), the mask, the figure with the mask over the
painting, and the record of how it was made. The one naming rule, record and writer that
restore.py, pixel_diff.py and the workbench (app.py) save through."""
import json
import os
import stat
from pathlib import Path

import numpy as np

from scans.outputs import input_record, record_json
from scans.scan import SUFFIX, Scan, write_scan
from utils.errors import UserError
from utils.files import commit_set, partial_name, sha256, writing
from utils.plotting import restoration_figure

OUTPUT_ENDINGS = ("_restored", "_mask", "_figure", "_record")  # what output_paths names end in


def place(path):
    """A file's absolute path with its folder resolved and its own name kept: an output name
    that is a link is that link, never what it points to."""
    path = Path(path)
    return path.parent.resolve() / path.name


def is_output_name(path):
    """Whether a file is named like one of this tool's outputs (a folder scan skips those)."""
    return any(Path(path).stem.endswith(ending) for ending in OUTPUT_ENDINGS)


def output_set(restored):
    """{kind: path} of the four files beside a restored painting's path: for
    <stem>_restored.png (or any other name, <stem>.tif say) <stem>_mask.png, <stem>_figure.jpg
    and <stem>_record.json."""
    restored = Path(restored)
    stem = restored.stem.removesuffix("_restored") or restored.stem
    return {"restored": restored, "mask": restored.with_name(f"{stem}_mask.png"),
            "figure": restored.with_name(f"{stem}_figure.jpg"),
            "record": restored.with_name(f"{stem}_record.json")}


def outputs_named(out, stem, fmt):
    """{kind: path} of the four outputs named by stem (a painting's file name without its
    suffix, as it is) in the folder out: <stem>_restored.png (or .tif), <stem>_mask.png, ..."""
    return output_set(Path(out) / f"{stem}_restored{SUFFIX[fmt]}")


def output_paths(out, files, fmt):
    """{painting: {kind: path}} for the four outputs of each painting (named by its stem)."""
    stems = [path.stem for path in files]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        raise UserError(f"several inputs are named {sorted(duplicates)[0]}: their outputs would "
                        f"overwrite each other; restore them into separate folders")
    return {path: outputs_named(out, path.stem, fmt) for path in files}


def _records(folder):
    """(path, record) of every record of these tools in folder: a JSON object with the input,
    the outputs {kind: path} and their sha256, naming itself as its record."""
    for path in Path(folder).glob("*_record.json"):
        try:
            record = json.loads(path.read_text())
            outputs = record["outputs"]
            if Path(outputs["record"]) == path.resolve() and isinstance(
                    record.get("output_sha256"), dict):
                yield path, record
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue


def recorded_outputs(folder, only=None):
    """{file: the painting it was made from} of the files that earlier runs of these tools
    wrote into folder and that are still as they wrote them: each listed by a record whose
    sha256 of it matches the regular file on disk (a record is its own proof; a link is never
    one of them). A record anyone could write proves nothing: a stale or hand-made one lists
    files whose bytes it does not know. only: the files to prove (others are not hashed)."""
    only = None if only is None else {place(p) for p in only}
    written = {}
    for path, record in _records(folder):
        source = record.get("input", {}).get("path")
        written[place(path)] = source
        for kind, output in record["outputs"].items():
            output = Path(output)
            digest = record["output_sha256"].get(kind)
            if kind == "record" or digest is None or (only is not None and output not in only):
                continue
            try:
                if stat.S_ISREG(os.lstat(output).st_mode) and sha256(output) == digest:
                    written[output] = source
            except OSError:
                continue
    return written


def foreign_files(paths, source=None, ours=None):
    """The paths among paths that exist and that no run of these tools provably wrote (see
    recorded_outputs): a user's own files (a hand-drawn <name>_mask.png beside the painting,
    another painting b.png, a link), never to be replaced without --overwrite. With source (the
    painting these outputs are made from), also the outputs these tools made from another
    painting. ours: recorded_outputs of the paths' folders, when the caller has it (it hashes
    every output there: once per run, not once per painting)."""
    if ours is None:
        ours = {}
        for folder in {place(p).parent for p in paths}:
            ours.update(recorded_outputs(folder, only=paths))
    foreign = []
    for path in map(Path, paths):
        if not path.exists():
            continue
        key = place(path)
        if key not in ours or (source is not None and ours[key] is not None
                               and Path(ours[key]) != Path(source).resolve()):
            foreign.append(path)
    return foreign


def refuse_foreign(paths, source=None, overwrite=False, ours=None):
    """A UserError naming the first file among paths that these tools did not write (see
    foreign_files), unless overwrite."""
    foreign = [] if overwrite else foreign_files(paths, source, ours)
    if foreign:
        raise UserError(f"{foreign[0]} exists and no run of this tool made it from this painting "
                        f"(no record with its sha256): it is not replaced; move it, write "
                        f"elsewhere (-o), or pass --overwrite")


def restoration_record(painting, scan, mask, fraction, method, model, settings, seconds, tool):
    """What every record says, whichever tool made the file: the input (which file, exactly, and
    what reading it changed), where the mask came from, the share filled, the method, the model
    ({path, sha256} or None), the settings, the seconds each phase took and the tool."""
    return {"input": input_record(painting, scan), "mask": mask, "masked_fraction": fraction,
            "method": method, "model": model, "settings": settings, "seconds": seconds,
            "tool": tool}


def write_restoration(outputs, scan, mask, before, method, fmt, make_record, check=None):
    """Write the restored scan, the mask (H, W; nonzero = filled), the figure (before: the
    painting's thumbnail before filling) and the record to outputs {kind: path} as one set: each
    to a temporary file of this process, the record (with every output's path and sha256) last,
    then all renamed into place together (commit_set). make_record() is called once the three
    images are written (so it can time them) and returns the record. A failure (a full disk, an
    error) removes this run's temporary files and leaves the files of an earlier run as they
    were; a kill leaves the old set or, once the renames began, the new one whole. check(), if
    given, is called under the folder's lock just before the renames (commit_set): it proves
    again that the files the set replaces may be replaced."""
    mask = (np.asarray(mask) > 0).astype(np.uint8)
    writers = {"restored": lambda p: write_scan(p, scan, fmt),
               "mask": lambda p: write_scan(p, Scan((mask * np.uint8(255))[..., None]), "png"),
               "figure": lambda p: restoration_figure(p, before, mask, scan.colour, method)}
    with writing(Path(outputs["restored"]).parent):
        temporary = {kind: partial_name(path) for kind, path in outputs.items()}
        try:
            for kind, write in writers.items():
                write(temporary[kind])
            record = make_record()
            record = {"input": record.pop("input"),
                      "outputs": {kind: str(place(p)) for kind, p in outputs.items()},
                      "output_sha256": {kind: sha256(temporary[kind]) for kind in writers},
                      **record}
            temporary["record"].write_text(record_json(record))
            commit_set([(temporary[kind], outputs[kind])
                        for kind in ("restored", "mask", "figure", "record")], check)
        except BaseException as error:
            if getattr(error, "journal", None) is None:  # else left for the journal's recovery
                for path in temporary.values():
                    path.unlink(missing_ok=True)
            raise
