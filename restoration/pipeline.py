"""One restoration, whichever front end asks for it: read the painting, take its mask (detected,
clicked, drawn, or given as a file), check the mask, fill it, check the result, and write the
painting's four files with their record. restore.py, pixel_diff.py and the workbench (app.py)
hold only what is their own (arguments, a window, routes) and call these, so a mask is judged
the same way everywhere:

- nothing found (an empty mask): NothingFound, and nothing is written; a batch goes on;
- the mask file is the painting itself (the same file, or the same pixels): refused;
- the whole painting, or over LARGE_SHARE of it (a mask drawn black on white, a box over a pale
  painting, a runaway selection): LargeMask, refused unless the user says to go on
  (--allow-large-mask; --mask-invert reads a mask whose losses are black);
- over the share the user sets (--warn-share, default WARN_SHARE): a warning (a confirmation in
  the workbench).
"""
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from filling import registry as fills
from filling.fill import fill
from scans.saving import refuse_foreign, restoration_record, write_restoration
from scans.scan import check_size, header, read_scan
from utils.errors import UserError
from utils.files import same_file, sha256
from utils.plotting import thumbnail

WARN_SHARE = 0.10   # a mask over this share of the painting is shown to the user before a fill
LARGE_SHARE = 0.5   # over this, refused unless the user says to go on
SEED = 0            # every fill is deterministic; the seed its random parts use is recorded
NOTHING_HINT = ("click a loss with --point X,Y, give your own --mask, or lower --threshold "
                "(with --min-share 0 where the painting was judged undamaged)")


class NothingFound(UserError):
    """The mask is empty: nothing to fill, and nothing is written for that painting."""


class LargeMask(UserError):
    """The mask covers over LARGE_SHARE of the painting (fraction: how much)."""

    def __init__(self, message, fraction):
        super().__init__(message)
        self.fraction = fraction


def read_painting(path, max_pixels=None, budget=None):
    """The painting at path, weighed against max_pixels and the memory (budget: the bytes this
    process may use, None for what is available) before it is decoded."""
    check_size(path, max_pixels, budget)
    return read_scan(path, max_pixels=None)  # check_size has weighed it


def read_mask(path, painting, scan, invert=False):
    """A mask file's losses (H, W) uint8 0/1 for a painting (its path and scan): its bright
    pixels (see mask_pixels), or with invert its dark ones. Refused when it is not the
    painting's size, or when it is the painting itself."""
    path = Path(path)
    if same_file(path, painting):
        raise UserError(f"the mask {path} is the painting itself: give a mask (white = loss)")
    shape = scan.shape

    def wrong_size(width, height):
        return UserError(f"mask {path} is {width} x {height} pixels but the painting is "
                         f"{shape[1]} x {shape[0]}")
    width, height, _ = header(path)  # (an EXIF orientation may still swap the two)
    if (height, width) not in (shape, shape[::-1]):
        raise wrong_size(width, height)
    found = read_scan(path, max_pixels=None)  # no larger than the painting
    if found.shape != shape:
        raise wrong_size(found.shape[1], found.shape[0])
    if found.colour.shape == scan.colour.shape and np.array_equal(found.colour, scan.colour):
        raise UserError(f"the mask {path} has the painting's own pixels: it is a copy of the "
                        f"painting, not a mask (white = loss)")
    return mask_pixels(found, invert)


def mask_pixels(scan, invert=False):
    """A mask file's losses (uint8 0/1): its bright pixels (any channel above half; with invert
    its dark ones: every channel at most half), or, for a mask drawn in transparency (an alpha
    channel over colour of one value), its opaque ones; a transparent pixel is never a loss."""
    half = np.iinfo(scan.colour.dtype).max // 2 if scan.colour.dtype.kind in "ui" else 0.5
    colour = scan.colour
    if scan.alpha is not None and colour.min() == colour.max():
        return (scan.alpha > half).astype(np.uint8)
    bright = np.zeros(scan.shape, bool)
    for channel in range(colour.shape[2]):
        bright |= colour[..., channel] > half
    mask = ~bright if invert else bright
    if scan.alpha is not None:
        mask &= scan.alpha > half
    return mask.astype(np.uint8)


def mask_file_source(path):
    """What a record says of a mask given as a file."""
    path = Path(path)
    return {"source": "file", "name": path.name, "path": str(path.resolve()),
            "sha256": sha256(path)}


def check_mask(mask, scan, allow_large=False, warn_share=WARN_SHARE, hint=NOTHING_HINT,
               large_hint="--mask-invert if its losses are black, or --allow-large-mask to fill "
                          "it anyway"):
    """Judge a mask (H, W; nonzero = loss) for a painting the one way every tool does (see the
    module's docstring); transparent pixels are taken out of it first (they are not paint).
    Returns (the share of the painting it covers, a warning or None)."""
    if scan.alpha is not None:
        mask[scan.alpha == 0] = 0
    fraction = float(np.count_nonzero(mask)) / mask.size
    if fraction == 0.0:
        raise NothingFound(f"no loss found, nothing written; to find some, {hint}")
    if fraction == 1.0:
        raise UserError("the mask covers the whole painting: there is no paint left to fill "
                        "from (check the mask)")
    if fraction > LARGE_SHARE and not allow_large:
        raise LargeMask(f"the mask covers {fraction:.0%} of the painting, which a fill would "
                        f"mostly invent: refused; check it, or pass {large_hint}", fraction)
    warning = None
    if fraction > warn_share:
        warning = (f"the mask covers {fraction:.1%} of the painting (over the {warn_share:.0%} "
                   f"that --warn-share sets): check the mask")
    return fraction, warning


@dataclass
class Filler:
    """A fill as a user names it, loaded once: the method (a name of filling/registry.py, a
    shipped model's name or a PATH.keras), the model wide losses use, and its settings."""
    method: str = "auto"
    strategy: str = "auto"  # filling/fill.py's name for it
    model: object = None
    model_file: Path = None
    radius: int = 3
    thin_radius: float = 6.0
    model_digest: str = None  # the model file's sha256, once computed
    seed: int = SEED

    @classmethod
    def load(cls, method="auto", model=fills.DEFAULT_MODEL, radius=3, thin_radius=6.0):
        strategy, loaded, path = fills.load_method(method, model)
        return cls(method, strategy, loaded, path, radius, thin_radius)

    def __call__(self, colour, mask, progress=None):
        """Fill colour (the scan's samples) in place where mask is nonzero, and check the
        result: the same shape and type, and finite."""
        shape, dtype = colour.shape, colour.dtype
        fill(colour, mask, self.strategy, self.model, self.radius, self.thin_radius,
             progress=progress)
        if colour.shape != shape or colour.dtype != dtype:
            raise UserError(f"the {self.method} fill changed the painting's shape or type")
        if dtype.kind == "f" and not np.isfinite(colour[mask > 0]).all():
            raise UserError(f"the {self.method} fill gave NaN or infinite values: nothing was "
                            f"written")
        return colour

    def settings(self, fmt):
        return {"radius": self.radius, "thin_radius": self.thin_radius, "seed": self.seed,
                "format": fmt}

    def model_record(self):
        """{path, sha256} of the model file, or None when no model is used."""
        if self.model_file is None:
            return None
        if self.model_digest is None:
            self.model_digest = sha256(self.model_file)
        return {"path": str(Path(self.model_file).resolve()), "sha256": self.model_digest}


def restore(scan, mask, filler, progress=None, in_place=False):
    """(the restored scan, the painting's thumbnail before the fill, for its figure). The scan
    given is left as it was, unless in_place (a tool that needs the painting no more saves a
    copy of it: a scan's worth of memory)."""
    before = thumbnail(scan.colour)
    colour = scan.colour if in_place else scan.colour.copy()
    return replace(scan, colour=filler(colour, mask, progress)), before


def save(outputs, scan, mask, before, filler, fmt, source, fraction, seconds, tool,
         painting, extra_input=None, overwrite=False):
    """Write the restored scan, its mask, figure and record to outputs {kind: path} as one set
    (scans/saving.py): the record says where the mask came from (source), the share filled, the
    fill and its settings, the seconds each phase took (plus the write's) and the tool. Under
    the folder's lock, just before the set replaces anything, it is proven again that no file
    it replaces is a user's (refuse_foreign; overwrite: replace them all the same): a file that
    appeared since the run began is kept."""
    start = time.perf_counter()

    def record():
        times = {**seconds, "write": round(time.perf_counter() - start, 3)}
        times["total"] = round(sum(times.values()), 3)
        made = restoration_record(painting, scan, source, fraction, filler.method,
                                  filler.model_record(), filler.settings(fmt), times, tool)
        if extra_input:
            made["input"].update(extra_input)
        return made
    write_restoration(outputs, scan, mask, before, filler.method, fmt, record,
                      check=lambda: refuse_foreign(outputs.values(), painting, overwrite))


class Clock:
    """Seconds per phase, for the record."""

    def __init__(self):
        self.last, self.seconds = time.perf_counter(), {}

    def lap(self, name):
        now = time.perf_counter()
        self.seconds[name] = round(now - self.last, 3)
        self.last = now
        return self.seconds
