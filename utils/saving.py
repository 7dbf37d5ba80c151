"""A restored painting's four files, written as a set: the restored painting (lossless, at its
own depth, with its alpha, profile and metadata), the mask, the figure with the mask over the
painting, and the record of how it was made. The one code path that restore.py and the
workbench (app.py) save through."""
import numpy as np

from utils.images import UserError
from utils.outputs import record_json, write_atomically, write_text
from utils.plotting import restoration_figure
from utils.scan import SUFFIX, Scan, write_scan

OUTPUT_ENDINGS = ("_restored", "_mask", "_figure", "_record")  # what output_paths names end in


def is_output_name(path):
    """Whether a file is named like one of this tool's outputs (a folder scan skips those)."""
    return any(path.stem.endswith(ending) for ending in OUTPUT_ENDINGS)


def output_paths(out, files, fmt):
    """{painting: {kind: path}} for the four outputs of each painting (named by its stem)."""
    stems = [path.stem for path in files]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        raise UserError(f"several inputs are named {sorted(duplicates)[0]}: their outputs would "
                        f"overwrite each other; restore them into separate folders")
    return {path: {"restored": out / f"{path.stem}_restored{SUFFIX[fmt]}",
                   "mask": out / f"{path.stem}_mask.png",
                   "figure": out / f"{path.stem}_figure.jpg",
                   "record": out / f"{path.stem}_record.json"} for path in files}


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
