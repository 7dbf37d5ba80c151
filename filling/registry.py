"""Every fill method, once: what it does, what it needs (a model, a radius), how much paint
around a loss it reads, and the samples it fills. restore.py, pixel_diff.py, the workbench and
evaluate.py all read this table, so a new method is one entry here.

Three strategies (filling/fill.py carries each out at a painting's full resolution):
- "classical": each group of losses is filled on a crop around it with `image_fill` (or, for
  samples in `native`, with `native_fill` in their own type, no float copy);
- "thin-wide": thin losses (specks, cracks, strokes) by the speck fill, wide ones from a model
  (`--model`, a file or a shipped model's name) or, without one, from the mean of the pyramid
  fill and Telea's, each on a window at its own scale and blended in at full resolution;
  `detail_strength` adds that much of the painting's own brushwork (or, `detail` c.grain, its
  finest grain) to the wide ones, `texture` PatchMatch's grain;
- "model": every loss from a saved model alone (a shipped model's name, or a .keras file, given
  as the method).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from filling import classical as c
from models.loading import PRETRAINED
from utils.errors import UserError

# auto's detail: the painting's brushwork (classical.brushwork) at half its strength, the most
# that cost no PSNR on 24 training paintings (docs/filling.md)
BRUSH_STRENGTH = 0.5
DEFAULT_MODEL = PRETRAINED / "context_encoder.keras"
# The inpainting models shipped in pretrained/ (pretrained/README.md has their recipes).
SHIPPED_MODELS = {name: PRETRAINED / f"{name}.keras"
                  for name in ("context_encoder", "context_encoder2", "gan", "cgan")}


def _side(box):
    return max(box[2] - box[0], box[3] - box[1])


@dataclass(frozen=True)
class Fill:
    name: str
    summary: str                      # one line for the tools' --help
    strategy: str                     # classical, thin-wide or model (see above)
    image_fill: Callable = None       # classical: fill(float RGB image, mask, **options)
    native_fill: Callable = None      # classical: fill(samples, holes, radius) in their own type
    native: tuple = ()                # the sample types native_fill takes
    radius: bool = False              # takes --radius
    uses_model: bool = False          # wide losses from --model (thin-wide) or the method's file
    texture: bool = False             # thin-wide: PatchMatch's grain in the wide losses
    detail_strength: float = 0.0      # thin-wide: this much of nearby paint's detail copied in
    detail: Callable = c.brushwork    # how: its brushwork, or its finest grain (c.grain)
    detail_margin: int = 64           # px of paint read around the losses for it
    depth: str = "float"              # what it computes in: float, or 8-bit (then a 16-bit
    #                                   scan's filled samples have 8-bit steps; others stay exact)
    margin: Callable = lambda box, radius: 8  # pixels of paint a crop holds around its losses

    @property
    def classical(self):
        return self.strategy == "classical"


FILLS = {f.name: f for f in (
    Fill("auto", "thin losses by the speck fill, wide ones by the learned model at the loss's "
         "scale with the brushwork of paint coloured like the fill copied in at half strength "
         "(the default)", "thin-wide", uses_model=True, detail_strength=BRUSH_STRENGTH),
    Fill("smooth", "auto without the brushwork: the highest PSNR, but a smooth smear in wide "
         "losses", "thin-wide", uses_model=True),
    Fill("brushwork", "auto with the brushwork at its full strength: the most texture, for "
         "0.3-0.7 dB of PSNR", "thin-wide", uses_model=True, detail_strength=1.0),
    Fill("grain", "auto with the paint's finest grain instead of its brushwork (the default "
         "until issue 30)", "thin-wide", uses_model=True, detail_strength=1.0, detail=c.grain,
         detail_margin=48),
    Fill("textured", "auto with PatchMatch's grain in the wide losses (slower)", "thin-wide",
         uses_model=True, texture=True, depth="8-bit"),
    Fill("telea", "OpenCV's fast marching (Telea 2004)", "classical", c.opencv_fill("telea"),
         c.opencv_inpaint_as("telea"), ("uint8", "uint16"), radius=True,
         # they read only `radius` pixels around the front
         margin=lambda box, radius: 2 * radius + 2),
    Fill("ns", "OpenCV's Navier-Stokes fill", "classical", c.opencv_fill("ns"),
         c.opencv_inpaint_as("ns"), ("uint8", "uint16"), radius=True,
         margin=lambda box, radius: 2 * radius + 2),
    Fill("biharmonic", "scikit-image's biharmonic fill", "classical", c.biharmonic_fill),
    Fill("specks", "0.7 biharmonic + 0.3 Navier-Stokes (radius 1): auto's fill of thin losses",
         "classical", c.speck_fill, margin=lambda box, radius: 8),
    Fill("fsr", "OpenCV-contrib's frequency-selective reconstruction (slow on large areas)",
         "classical", c.fsr_fill, depth="8-bit",
         margin=lambda box, radius: 32),  # it fits its model on blocks of up to 32 px
    Fill("patchmatch", "PatchMatch: the painting's own texture copied in", "classical",
         c.patchmatch_fill, depth="8-bit", margin=lambda box, radius: c.source_margin(box)),
    Fill("pyramid", "the push-pull pyramid fill the learned models start from", "classical",
         c.pyramid_fill, margin=lambda box, radius: max(8, _side(box) // 4)),
)}
METHODS = tuple(FILLS)
CLASSICAL = tuple(name for name, f in FILLS.items() if f.classical)
# A saved model given as the method (PATH.keras): not a name a user types.
MODEL = Fill("model", "a saved inpainting model (PATH.keras)", "model", uses_model=True)


def get(name):
    """The entry of a method name, or of "model"; ValueError for anything else."""
    if name == "model":
        return MODEL
    if name not in FILLS:
        raise ValueError(f"unknown method {name!r}; choose from {METHODS} or 'model'")
    return FILLS[name]


def names(flag):
    """The methods whose entry has flag set (e.g. "radius", "uses_model"), for a --help text."""
    return [name for name, f in FILLS.items() if getattr(f, flag)]


def describe(methods=METHODS):
    """'name: summary' for each method, for a --help text."""
    return "; ".join(f"{n}: {FILLS[n].summary}" for n in methods)


def model_path(name, model=DEFAULT_MODEL):
    """(strategy name, the model file it loads or None) for a method as a user names it: one of
    METHODS (thin-wide ones take `model`, 'none' for no model), a shipped model's name, or a path
    to a .keras file."""
    if name in FILLS:
        if not FILLS[name].uses_model or str(model).lower() == "none":
            return name, None
        return name, SHIPPED_MODELS.get(str(model), Path(model))
    if name in SHIPPED_MODELS:
        return "model", SHIPPED_MODELS[name]
    if str(name).lower().endswith(".keras"):
        return "model", Path(name)
    raise UserError(f"unknown method {name!r}: choose one of {', '.join(METHODS)}, or give a "
                    f"model file PATH.keras")


def load_method(name, model=DEFAULT_MODEL):
    """(strategy name, loaded model or None, its file or None) for a method as a user names it
    (see model_path)."""
    from models.loading import load_inpainting_model
    method, path = model_path(name, model)
    return method, (None if path is None else load_inpainting_model(path)), path
