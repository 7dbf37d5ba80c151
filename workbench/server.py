"""The restorer's workbench behind app.py: a Flask app serving one local page (web/) and a small
JSON API over the same pipeline restore.py runs (restoration/pipeline.py): detection, the mask's
checks, the fill at full resolution and the four files saved as a set.

The page works on a scaled view of the painting (at most VIEW_SIDE pixels on its longest side);
every computation happens on the full-resolution painting held here. Zoomed in, the page asks for
the part it shows at the screen's resolution (/region, /mask-region): cut from a pyramid of the
painting (or of the mask) at 1:2, 1:4, ... (ViewPyramid, built once), so that a zoom step never
resizes the whole scan. The mask is composed, on the page as here, of the detected losses and
the selections made by clicks (each computed here at full resolution), then the brush and eraser
strokes replayed in the order drawn (the page sends them in the painting's pixels; drawn here at
full resolution): a brush marks, an eraser unmarks, the latest stroke over a pixel decides.

Each restoration is kept (its mask and the pixels it filled, the last KEEP_RESULTS of a painting)
so that the page can step back through them with Undo; a restore "on top" of one fills only what
the mask added since, starting from that result, and gives back the painting's own pixels where
the mask lost some.

Safety: files are read only from FOLDER (a name from the browser must be one of the paintings
found in it) or from uploads, which are saved under names made here; outputs go only to OUT,
named as restore.py names them (scans.saving.outputs_named: the file's own stem; an upload's
after werkzeug's secure_filename); nothing is written over an input
(scans.outputs.check_outputs, as in restore.py); an upload over the size limit, a file that is
not an image or a truncated one gets a message, not a crashed server. Every value a request
carries is checked by one of a few small readers (_number, _choice, _flag, _json_object) and a
malformed one is answered 4xx with one line; anything unforeseen is a 500 with a generic line
and its traceback in the terminal. Names are echoed through printable(): no control characters.
"""
import dataclasses
import hashlib
import io
import json
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
import weakref
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from detection.detect import Detector, select_at
from detection import learn
from detection.learn import PaintingModel
from filling import registry as fills
from models.loading import load_inpainting_model
from restoration import pipeline
from scans.outputs import check_outputs, tool_record
from scans.saving import foreign_files, is_output_name, outputs_named, place, recorded_outputs
from scans.scan import FORMATS, check_size, header, read_scan
from utils.cli import printable
from utils.errors import UserError
from utils.files import remove_stale_partials, sha256, writable_folder
from utils.images import find_images, to_uint8
from utils.plotting import thumbnail
from utils.pyramid import ViewPyramid

WEB = Path(__file__).resolve().parent / "web"
VIEW_SIDE = 1600  # the page's view of a painting: at most this many pixels on its longest side
MASK_RGB = (255, 0, 255)  # the page's mask colour (web/app.js MASK_COLOUR)
def _png(array):
    """PNG bytes of an 8-bit (H, W) or (H, W, 3) array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _jpeg(rgb):
    """JPEG bytes (quality 92) of an 8-bit RGB array: the page's views of the painting, which are
    only looked at (a PNG of a 1600 x 1200 view takes ten times as long to make); the 1:1 crops
    and every saved file are lossless."""
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _view_mask(mask, size):
    """A full-resolution mask (H, W) at the view's size (w, h): a view pixel is marked if any of
    the pixels it covers is."""
    small = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA)
    return np.where(small > 0, 255, 0).astype(np.uint8)


MAX_STROKE_POINTS = 1_000_000  # in all the strokes of one restore
MAX_STROKE_WIDTH = 10_000  # the painting's pixels
STROKE_BUDGET = 200  # times the painting's pixels the strokes' segments may visit (minutes)
BAND_PIXELS = 1 << 22  # a stroke's segment is drawn this many pixels at a time
FARTHEST = 10_000_000  # a stroke's points, in the painting's pixels from its corner


def read_strokes(text):
    """The page's brush and eraser strokes, checked: JSON [{"tool": "brush" or "eraser",
    "width": the brush's diameter, "points": [[x, y], ...]}, ...] in the painting's pixels, in
    the order drawn; [(tool, width, points (N, 2) float)]."""
    try:
        strokes = json.loads(text)
    except (ValueError, RecursionError):
        raise UserError("the brush strokes are not JSON") from None
    if not isinstance(strokes, list):
        raise UserError("the brush strokes must be a list")
    checked, total = [], 0
    for stroke in strokes:
        if not isinstance(stroke, dict) or stroke.get("tool") not in ("brush", "eraser"):
            raise UserError("each stroke must be a brush's or an eraser's")
        width = stroke.get("width")
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not (
                0 < width <= MAX_STROKE_WIDTH):
            raise UserError(f"a stroke's width must be a number of pixels from 0 to "
                            f"{MAX_STROKE_WIDTH}, not {width!r}")
        try:
            points = np.asarray(stroke.get("points"), dtype=np.float64)
        except (TypeError, ValueError):
            points = np.zeros((0,))
        if points.ndim != 2 or points.shape[1:] != (2,) or not len(points) or not np.isfinite(
                points).all():
            raise UserError("a stroke's points must be a list of [x, y] numbers")
        if np.abs(points).max() > FARTHEST:
            raise UserError(f"a stroke's point is more than {FARTHEST:,} pixels away")
        total += len(points)
        if total > MAX_STROKE_POINTS:
            raise UserError(f"more than {MAX_STROKE_POINTS:,} points in the strokes")
        checked.append((stroke["tool"], float(width), points))
    return checked


def draw_strokes(mask, strokes):
    """Replay strokes (read_strokes') onto a full-resolution mask (H, W) bool, in the order
    drawn, as the page draws them: every pixel whose centre lies within half the stroke's width
    of its path (a round brush) is marked by a brush, unmarked by an eraser. (new mask, pixels
    the brush added, pixels the eraser removed). Strokes that would take more than
    STROKE_BUDGET times the painting's pixels (their segments' boxes) to draw are refused."""
    height, width = mask.shape
    work = 0.0
    for _, diameter, points in strokes:
        ends = np.vstack([points[:1], points])  # a lone point: a segment of no length
        low = np.clip(np.minimum(ends[:-1], ends[1:]) - diameter / 2, 0, (width, height))
        high = np.clip(np.maximum(ends[:-1], ends[1:]) + diameter / 2 + 1, 0, (width, height))
        work += float(np.prod(high - low, axis=1).sum())
    if work > STROKE_BUDGET * (height * width + 1_000_000):
        raise UserError(f"the brush strokes are too many or too wide to draw ({work / 1e9:.1f} "
                        f"billion pixels to visit): undo some, or use a smaller brush")
    drawn = mask.copy()
    for tool, diameter, points in strokes:
        pairs = zip(points[:-1], points[1:]) if len(points) > 1 else [(points[0], points[0])]
        for start, end in pairs:
            _segment(drawn, tool == "brush", start, end, diameter / 2)
    return drawn, int((drawn & ~mask).sum()), int((mask & ~drawn).sum())


def _segment(drawn, value, start, end, radius):
    """Set the pixels of drawn whose centres (i + 0.5) lie within radius of the segment, a band
    of rows at a time (memory bounded however wide the brush)."""
    height, width = drawn.shape
    x0 = max(0, int(np.floor(min(start[0], end[0]) - radius)))
    x1 = min(width, int(np.ceil(max(start[0], end[0]) + radius)) + 1)
    y0 = max(0, int(np.floor(min(start[1], end[1]) - radius)))
    y1 = min(height, int(np.ceil(max(start[1], end[1]) + radius)) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    # float32 where the numbers are small enough to keep a hundredth of a pixel
    near = max(abs(start[0]), abs(start[1]), abs(end[0]), abs(end[1])) < 65536
    kind = np.float32 if near else np.float64
    dx, dy = kind(end[0] - start[0]), kind(end[1] - start[1])
    length = dx * dx + dy * dy
    x = (np.arange(x0, x1) + 0.5 - start[0]).astype(kind)[None, :]
    rows = max(1, BAND_PIXELS // (x1 - x0))
    for top in range(y0, y1, rows):
        y = (np.arange(top, min(y1, top + rows)) + 0.5 - start[1]).astype(kind)[:, None]
        t = np.clip((x * dx + y * dy) / length, 0, 1) if length > 0 else kind(0)
        inside = (x - t * dx) ** 2 + (y - t * dy) ** 2 <= kind(radius) ** 2
        drawn[top:top + y.shape[0], x0:x1][inside] = value


class Painting:
    """One painting open on the page: the full-resolution scan, its view, the masks and the
    restoration."""

    def __init__(self, path, name, detector, uploaded_as=None, digest=None, earlier=None):
        """earlier: a Painting of the same file (the same sha256, digest) still open, whose
        pixels and what was computed of them (the detection's probabilities, what learning
        needs, the selections clicks made) are taken over: opened again (next, previous, a
        reload), a painting is not read, detected and clicked again."""
        self.id = uuid.uuid4().hex
        self.path, self.name, self.uploaded_as = Path(path), name, uploaded_as
        self.sha256 = digest or sha256(self.path)  # the page keeps the edits of each by it
        self.detector = detector
        if earlier is None:
            self.scan = read_scan(self.path, max_pixels=None)  # check_size weighed it first
            height, width = self.scan.shape
            self.scale = min(1.0, VIEW_SIDE / max(height, width))
            view_width = max(1, round(width * self.scale))
            self.view = to_uint8(thumbnail(self.scan.colour, view_width))
            self.view_size = (self.view.shape[1], self.view.shape[0])  # (w, h), as OpenCV has it
            self.pyramids = {"before": ViewPyramid(self.scan.colour)}
            start = time.perf_counter()
            self.probability = detector.probability(self.scan.colour)  # None: no slider
        else:
            start = time.perf_counter()
            for kept in ("scan", "scale", "view", "view_size", "probability"):
                setattr(self, kept, getattr(earlier, kept))
            self.pyramids = {"before": earlier.pyramids["before"]}
        self.threshold = detector.threshold
        self.detected = self.detected_at(self.threshold)
        self.detect_seconds = time.perf_counter() - start
        self.loaded = None  # what a record says of a mask file loaded in place of the detection
        # id -> (full-resolution mask, what made it, the loss clicked alone)
        self.selections = dict(earlier.selections) if earlier else {}
        # what made a selection (a click, or a learning, and the paint kept out then) -> its id
        self.recipes = dict(earlier.recipes) if earlier else {}
        self.points_out = []  # shift-clicks: paint that no click may select
        self.job = {"state": "idle"}
        self._model = earlier._model if earlier else None  # made once, in a thread
        self.model_lock = threading.Lock()
        # id -> a restoration: its mask, the pixels it filled, how (the last KEEP_RESULTS)
        self.results, self.results_lock = {}, threading.Lock()
        self._after = None  # (id, colour, pyramid) of the restoration shown last, whole
        self.after_lock = threading.Lock()
        self._before = None  # the painting's thumbnail, for the figure
        self.saved = {}
        self.lock = threading.Lock()
        self.base_lock = threading.Lock()
        self._base = None  # ((threshold, selections), mask, its pyramid): the last one asked
        threading.Thread(target=self._pyramids, daemon=True).start()

    def _pyramids(self):
        """Build the pyramids of the painting and of its detected losses for the zoomed view,
        and the description of its pixels that learning from marks needs, in a thread, so that
        the first zoom and the first "every loss like it" do not wait."""
        self.pyramids["before"].build(VIEW_SIDE)
        self.base([])[1].build(VIEW_SIDE)
        self.model()

    def result(self, key=None):
        """A restoration held (the latest without a key)."""
        with self.results_lock:
            if not self.results:
                raise UserError("not restored yet")
            key = key or next(reversed(self.results))
            if key not in self.results:
                raise UserError("that restoration is no longer held: restore again")
            return self.results[key]

    def after(self, key=None):
        """(the restored colour samples, their pyramid for the zoomed view) of a restoration
        (the latest without a key): the last one shown is kept whole; another is made again
        from the painting and the pixels it filled."""
        result = self.result(key)
        with self.after_lock:
            if self._after is None or self._after[0] != result["id"]:
                colour = self.scan.colour.copy()
                colour[result["mask"]] = result["filled"]
                self._after = (result["id"], colour, ViewPyramid(colour))
            return self._after[1], self._after[2]

    def keep(self, result, colour):
        """Hold a new restoration (and its whole colour, shown next); the oldest beyond
        KEEP_RESULTS are let go."""
        with self.results_lock:
            self.results[result["id"]] = result
            for old in list(self.results)[:-KEEP_RESULTS]:
                del self.results[old]
        pyramid = ViewPyramid(colour)
        with self.after_lock:
            self._after = (result["id"], colour, pyramid)
        threading.Thread(target=pyramid.build, args=(VIEW_SIDE,), daemon=True).start()

    def before(self):
        """The painting's thumbnail before any fill (for the figure), made once."""
        if self._before is None:
            self._before = thumbnail(self.scan.colour)
        return self._before

    def model(self):
        """The painting's PaintingModel (detection/learn.py), made once."""
        with self.model_lock:
            if self._model is None:
                self._model = PaintingModel(self.scan.colour)
            return self._model

    def learn(self, selections, strokes):
        """Every loss like the marked ones, unlike the marked paint: a classifier of this
        painting's pixels fitted on the losses under the clicks and the brush strokes, against
        the paint under the shift-clicks and the eraser strokes (read_strokes'). bool (H, W)."""
        height, width = self.scan.shape
        losses = np.zeros((height, width), bool)
        for key in selections:
            if key not in self.selections:
                raise UserError("a selection was lost: open the painting again")
            losses |= self.selections[key][2]
        brushed = draw_strokes(np.zeros((height, width), bool), strokes)[0]
        erased = draw_strokes(np.zeros((height, width), bool),
                              [("brush", w, p) for tool, w, p in strokes if tool == "eraser"])[0]
        losses = (losses | brushed) & ~(erased & ~brushed)
        if not losses.any():
            raise UserError("nothing to learn from: click a loss or brush one first")
        paint = erased & ~brushed
        for point in self.points_out:
            paint |= select_at(self.scan.colour, point)
        found = self.model().select(losses, paint, self.detector.min_area) | losses
        if self.scan.alpha is not None:
            found[self.scan.alpha == 0] = False
        return found

    def base(self, selections, threshold=None):
        """The mask before the strokes, (detected at threshold | the selections clicked) (H, W)
        bool, its pyramid for the zoomed view (the last one is kept) and the threshold it was
        made at (the page may move it again while a restore runs)."""
        with self.base_lock:
            if threshold is not None and threshold != self.threshold:
                if self.probability is None:
                    raise UserError("this detection has no threshold to change")
                self.detected, self.threshold = self.detected_at(threshold), threshold
            for key in selections:
                if key not in self.selections:
                    raise UserError("a selection was lost: open the painting again")
            selections = tuple(dict.fromkeys(selections))  # each once
            key = (self.threshold, selections)
            if self._base is None or self._base[0] != key:
                mask = self.detected.copy()
                for name in selections:
                    mask |= self.selections[name][0]
                self._base = (key, mask, ViewPyramid(mask, marks=True))
            return self._base[1], self._base[2], key[0]

    def load_mask(self, path, sent, invert=False):
        """A mask file (the user's own, white = loss, or black with invert) in place of the
        detected losses; the threshold slider then has nothing to move."""
        mask = pipeline.read_mask(path, self.path, self.scan, invert).astype(bool)
        if self.scan.alpha is not None:
            mask[self.scan.alpha == 0] = False
        with self.base_lock:
            self.detected, self.probability, self._base = mask, None, None
            self.loaded = {"source": "file", "name": printable(Path(sent).name),
                           "sha256": sha256(path)}
        return float(mask.mean())

    def detected_at(self, threshold):
        """The detected losses (H, W) bool at a threshold of the probability map (or as the
        detector finds them, for a method without one)."""
        if self.probability is None:
            found = self.detector(self.scan.colour).astype(bool)
        else:
            found = self.detector.from_probability(self.probability, self.scan.shape,
                                                   threshold, image=self.scan.colour
                                                   ).astype(bool)
        if self.scan.alpha is not None:
            found[self.scan.alpha == 0] = False  # transparent pixels are not paint
        return found

    def summary(self):
        height, width = self.scan.shape
        return {"id": self.id, "name": printable(self.name), "width": width, "height": height,
                "view_width": self.view_size[0], "view_height": self.view_size[1],
                "bits": self.scan.bits,
                "fraction": float(self.detected.mean()),
                "detection": self.detector.settings() if self.loaded is None else self.loaded,
                "probability": self.probability is not None,
                # judged undamaged by the image-level decision: no threshold marks anything
                "undamaged": bool(self.probability is not None and self.loaded is None and
                                  not self.detector.damaged(self.probability)),
                "detect_seconds": round(self.detect_seconds, 3),
                "warnings": list(self.scan.warnings), "sha256": self.sha256}

    def to_full(self, x, y):
        """A point of the view in the painting's pixels."""
        height, width = self.scan.shape
        return (min(width - 1, max(0, int(x / self.scale))),
                min(height - 1, max(0, int(y / self.scale))))


LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
MAX_OPEN_PIXELS = 100_000_000  # the largest painting opened or uploaded (app.py --max-pixels)
COOKIE = "workbench_token"  # and the port: Workbench.cookie
KEEP_OPEN = 4  # paintings held in memory; the page opens an older one again
KEEP_RESULTS = 8  # restorations of a painting held for Undo (each its mask and filled pixels)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Workbench:
    """The state of one server: its folder, output folder, open paintings and loaded models."""

    def __init__(self, folder, out, max_upload_mb=200, max_pixels=None, detector=None,
                 hosts=LOCAL_NAMES, port=None, warn_share=pipeline.WARN_SHARE):
        self.folder = Path(folder).resolve() if folder else None
        self.warn_share = warn_share  # a mask over this share is confirmed before a fill
        self.out = Path(out)
        self.max_upload = int(max_upload_mb * 1024 * 1024)
        # a painting is weighed against this before it is decoded (and against the memory)
        self.max_pixels = max_pixels or MAX_OPEN_PIXELS
        # this run's secret: in the address app.py prints, then in a cookie; every request needs
        # it, so no other web page the user visits can use the server
        self.token = secrets.token_urlsafe(24)
        self.hosts = None if hosts is None else set(hosts)  # the Host names it answers to
        self.port = port  # the port it listens on (app.py sets it once the server is bound)
        self.detector = detector or Detector()
        self.uploads = Path(tempfile.mkdtemp(prefix="workbench-uploads-"))
        # removed by close(), or when the workbench is collected, or at exit, whichever is first
        self._remove_uploads = weakref.finalize(self, shutil.rmtree, self.uploads,
                                                ignore_errors=True)
        self.paintings = {}
        self.models, self.model_hashes = {}, {}
        self.tool = {**tool_record(), "command": ["app.py (the workbench)"]}
        self.models_lock = threading.Lock()
        self.save_lock = threading.Lock()

    @property
    def cookie(self):
        """The name of the token's cookie: a browser sends a host's cookies to all of its
        ports, so two workbenches on two ports, named alike, would log each other out."""
        return COOKIE if self.port is None else f"{COOKIE}_{self.port}"

    def close(self):
        """Remove the uploads (app.py calls it as it stops; again does nothing)."""
        self._remove_uploads()

    def warm_up(self):
        """Load the detector and auto's model and run each once on a small image, so that the
        first painting opened and restored does not wait for them (nor its first click for
        the classifier's library)."""
        self.detector.warm_up()
        learn.warm_up()
        image = np.full((64, 96, 3), 128, np.uint8)
        self.detector(image)
        mask = np.zeros((64, 96), np.uint8)
        mask[16:48, 24:72] = 1
        self.filler("auto")(image, mask)

    def names(self):
        """The paintings of FOLDER, as paths relative to it (not the files named like this
        tool's outputs, as restore.py skips them)."""
        if self.folder is None:
            return []
        return [str(p.relative_to(self.folder)) for p in find_images(self.folder)
                if not is_output_name(p)]

    def from_folder(self, name):
        """The file of FOLDER a name from the browser stands for; anything else is refused."""
        if self.folder is None:
            raise UserError("no folder was given to app.py: upload a painting instead")
        if name not in self.names():
            raise UserError(f"{name!r} is not one of the paintings in the folder")
        path = (self.folder / name).resolve()
        if self.folder not in path.parents:  # a link that points out of FOLDER
            raise UserError(f"{name!r} is outside the folder")
        return path

    def save_upload(self, storage):
        """Save an uploaded file under a name made here; (path, the name it was sent as)."""
        from werkzeug.utils import secure_filename
        sent = storage.filename or ""
        suffix = Path(secure_filename(sent)).suffix.lower()
        path = self.uploads / f"{uuid.uuid4().hex}{suffix if len(suffix) <= 6 else ''}"
        storage.save(path)
        return path, sent

    def open(self, path, name, uploaded_as=None):
        width, height, _ = header(path)  # weighed before anything is decoded
        if width * height > self.max_pixels:
            raise UserError(f"{name}: {width} x {height} pixels is over the workbench's limit "
                            f"of {self.max_pixels:,} (app.py --max-pixels)")
        digest = sha256(path)
        # the same file open already, with the detector's own detection: taken over
        earlier = next((p for p in reversed(self.paintings.values())
                        if p.sha256 == digest and p.loaded is None), None)
        if earlier is None:
            check_size(path, None)  # and against the memory available
        painting = Painting(path, name, self.detector, uploaded_as, digest, earlier)
        self.paintings[painting.id] = painting
        # the server's memory: only the last few paintings opened stay (and any being restored)
        for old in list(self.paintings.values())[:-KEEP_OPEN]:
            if old.job.get("state") != "running":
                del self.paintings[old.id]
                if old.uploaded_as is not None:  # its upload, a copy made here
                    old.path.unlink(missing_ok=True)
        return painting

    def get(self, painting_id):
        painting = self.paintings.get(painting_id)
        if painting is None:
            raise UserError("this painting is no longer open: open it again")
        return painting

    def filler(self, name):
        """The fill of a method of the page (a fill method or a shipped model's name:
        filling/registry.py), as restore.py makes it; each model loaded and hashed once."""
        if name not in (*fills.METHODS, *fills.SHIPPED_MODELS):
            raise UserError(f"unknown method {name!r}")
        strategy, path = fills.model_path(name)
        if path is None:
            return pipeline.Filler(name, strategy)
        with self.models_lock:
            if path not in self.models:
                self.models[path] = load_inpainting_model(path)
                self.model_hashes[path] = sha256(path)
        return pipeline.Filler(name, strategy, self.models[path], path,
                               model_digest=self.model_hashes[path])

    def judge(self, selected):
        """The share of the painting a selection (H, W) bool covers, and a warning where it is
        over the share the user set (app.py --warn-share), for the page to show at once."""
        fraction = float(np.count_nonzero(selected)) / selected.size
        if fraction <= self.warn_share:
            return {"fraction": fraction}
        return {"fraction": fraction, "warning": (
            f"this selects {fraction:.1%} of the painting, over the {self.warn_share:.0%} "
            f"set (app.py --warn-share): check that every marked pixel is a loss (Undo takes "
            f"it back); a fill will ask first")}

    def mask(self, painting, selections, strokes=(), threshold=None):
        """The full-resolution mask: the detected losses at threshold (the slider's; default
        the detector's) | the selections, then the strokes (read_strokes') replayed; the
        numbers of pixels the brush added and the eraser removed; the threshold used."""
        base, _, threshold = painting.base(selections, threshold)
        mask, added, removed = draw_strokes(base, strokes)
        if painting.scan.alpha is not None:
            mask[painting.scan.alpha == 0] = False
        return mask, added, removed, threshold

    def restore(self, painting, method_name, selections, strokes=(), threshold=None,
                confirmed=False, warn_share=None, on_top=None):
        """Compose and check the mask (restoration/pipeline.py: an empty one, or one over the
        share the user confirms, is answered at once), then fill it in a thread; the page polls
        the job. Unconfirmed, a mask over warn_share raises NeedsConfirmation. on_top: the id
        of a restoration to go on from: only the pixels the mask added since are filled, on
        its result, and those it no longer marks are the painting's own again."""
        mask, brushed, erased, threshold = self.mask(painting, selections, strokes, threshold)
        base = painting.result(on_top) if on_top else None
        try:
            fraction, warning = pipeline.check_mask(
                mask, painting.scan, allow_large=confirmed,
                warn_share=self.warn_share if warn_share is None else warn_share,
                hint="lower the threshold, click a loss, or brush it")
        except pipeline.LargeMask as error:
            raise NeedsConfirmation(f"the mask covers {error.fraction:.0%} of the painting, "
                                    f"which a fill would mostly invent: fill it anyway?",
                                    error.fraction) from None
        if warning and not confirmed:
            raise NeedsConfirmation(f"the mask covers {fraction:.1%} of the painting: is every "
                                    f"marked pixel a loss? fill it?", fraction)
        with painting.lock:
            if painting.job["state"] == "running":
                raise UserError("this painting is being restored already")
            painting.job = {"state": "running", "phase": "preparing", "started": time.time()}
        if painting.loaded is not None and not selections and not strokes:
            source = painting.loaded
        else:
            # at the slider's threshold, where the page moved it (and auto's specks with it)
            detector = dataclasses.replace(painting.detector, threshold=threshold).settings()
            source = {"source": "workbench",
                      **({"file": painting.loaded} if painting.loaded else {"detector": detector}),
                      "clicks": [painting.selections[k][1] for k in selections],
                      "brush_pixels": brushed, "eraser_pixels": erased}
        threading.Thread(target=self._restore, daemon=True,
                         args=(painting, method_name, mask, fraction, source, base)).start()

    def _restore(self, painting, method_name, mask, fraction, source, base=None):
        job = painting.job
        try:
            clock = pipeline.Clock()
            job["phase"] = "loading the model" if method_name in fills.SHIPPED_MODELS or (
                method_name in fills.FILLS and fills.FILLS[method_name].uses_model) else "filling"
            filler = self.filler(method_name)
            job["phase"] = "filling"
            clock.lap("load")
            scan, todo = painting.scan, mask
            if base is not None:  # on from an earlier result: only what the mask added
                colour = painting.after(base["id"])[0].copy()
                dropped = base["mask"] & ~mask
                colour[dropped] = painting.scan.colour[dropped]
                scan = dataclasses.replace(painting.scan, colour=colour)
                todo = mask & ~base["mask"]
            job["fill_started"] = time.time()
            restored, _ = pipeline.restore(scan, todo.astype(np.uint8), filler,
                                           progress=lambda share: job.update(progress=share),
                                           in_place=base is not None)
            step = {"method": method_name, "filled": float(todo.mean()),
                    "model": filler.model_record()}
            steps = [*base["steps"], step] if base is not None else [step]
            if len(steps) > 1:  # the record says how the fills followed each other
                source = {**source, "steps": steps}
            result = {"id": uuid.uuid4().hex[:12], "mask": mask, "filled": restored.colour[mask],
                      "fraction": fraction, "filler": filler, "source": source, "steps": steps,
                      "seconds": {"fill": clock.lap("fill")["fill"]}}
            painting.keep(result, restored.colour)
            painting.saved = {}
            job.update(state="done", phase="done", fraction=fraction, result=result["id"],
                       filled=step["filled"], methods=[s["method"] for s in steps])
        except UserError as error:  # the page shows it; the server goes on
            job.update(state="error", error=printable(error))
        except Exception as error:
            log_failure(error, f"restoring {painting.name} with {method_name}")
            job.update(state="error", error=FAILED)
        job["seconds"] = round(time.time() - job["started"], 3)

    def save(self, painting, fmt, result=None):
        """Write a restoration (the latest without an id) of the painting, its mask, figure and
        record into OUT, as restore.py does; {kind: path}."""
        if not painting.results:
            raise UserError("restore the painting before saving it")
        if fmt not in FORMATS:
            raise UserError(f"unknown format {fmt!r}")
        restoration = painting.result(result)
        with self.save_lock:  # two saves at once: one after the other, each its own set
            return self._save(painting, fmt, restoration)

    def _save(self, painting, fmt, r):
        from werkzeug.utils import secure_filename
        if painting.uploaded_as is None:  # a painting of FOLDER: named as restore.py names it
            stem = Path(painting.name).stem
        else:
            stem = Path(secure_filename(Path(painting.name).name)).stem or "painting"
        # recovery first: a killed save's set is completed before anything is judged
        remove_stale_partials(writable_folder(self.out), is_output_name)
        ours = recorded_outputs(self.out)  # earlier saves: replaceable, not inputs
        inputs = [painting.path, *(p for p in (find_images(self.folder) if self.folder else [])
                                   if place(p) not in ours)]
        # The painting's own name, unless files there belong to another painting (sub/x.jpg
        # beside x.jpg, two uploads whose names reduce to one) or to the user: then name-2, ...
        for number in range(1, 10000):
            outputs = outputs_named(self.out, stem if number == 1 else f"{stem}-{number}", fmt)
            if not foreign_files(outputs.values(), painting.path, ours) and not any(
                    p.is_dir() for p in outputs.values()):
                break
        else:
            raise UserError(f"no free name for {stem} in {self.out}: clear it out")
        check_outputs(list(outputs.values()), inputs)
        scan = dataclasses.replace(painting.scan, colour=painting.after(r["id"])[0])
        extra = {"uploaded_as": painting.uploaded_as} if painting.uploaded_as is not None else None
        pipeline.save(outputs, scan, r["mask"], painting.before(), r["filler"], fmt, r["source"],
                      r["fraction"], r["seconds"], self.tool, painting.path, extra)
        painting.saved = outputs
        return outputs


class NeedsConfirmation(UserError):
    """A mask the user must confirm before it is filled (the page asks, then sends it again)."""

    def __init__(self, message, fraction):
        super().__init__(message)
        self.fraction = fraction


def create_app(workbench):
    """The Flask app of a Workbench."""
    from flask import Flask, jsonify, request, send_file
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    app = Flask(__name__, static_folder=str(WEB), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = workbench.max_upload

    @app.before_request
    def guard():
        """Jupyter's rules: the Host must be a name the server listens on (no DNS rebinding),
        every request must carry this run's token (from the printed address, then its cookie),
        and a request that changes anything must come from the page itself (Origin, or
        Referer)."""
        from flask import redirect
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        host = host.strip("[]").lower()
        if workbench.hosts is not None and host not in workbench.hosts:
            return jsonify(error=f"this server answers to {', '.join(sorted(workbench.hosts))}, "
                                 f"not {printable(host)}"), 403
        given = request.args.get("token")
        if given is not None and _same(given, workbench.token):
            response = redirect(request.path)  # the token leaves the address bar
            response.set_cookie(workbench.cookie, workbench.token, httponly=True,
                                samesite="Strict")
            return response
        if not _same(request.cookies.get(workbench.cookie, ""), workbench.token):
            return jsonify(error="open the address app.py printed: it carries this run's "
                                 "token"), 403
        if request.method not in SAFE_METHODS:
            own = f"{request.scheme}://{request.host}"
            origin = request.headers.get("Origin") or request.headers.get("Referer")
            if origin is None or not (origin == own or origin.startswith(own + "/")):
                return jsonify(error="refused: a request that changes something must come "
                                     "from the workbench's own page"), 403
        return None

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    @app.errorhandler(UserError)
    def user_error(error):
        message = printable(error)  # it may quote a name or a value sent
        if isinstance(error, NeedsConfirmation):
            return jsonify(error=message, confirm=message, fraction=error.fraction), 409
        return jsonify(error=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        length = request.content_length or 0
        if length > workbench.max_upload:
            return jsonify(error=f"the upload is over the limit of "
                                 f"{workbench.max_upload / 1024 / 1024:g} MB (app.py "
                                 f"--max-upload-mb)"), 413
        if error.description != RequestEntityTooLarge.description:  # ours (_json_object)
            return jsonify(error=error.description), 413
        return jsonify(error="a field of the request is over its size limit: send it as a "
                             "file"), 413

    @app.errorhandler(HTTPException)
    def http_error(error):
        return jsonify(error=f"{error.code} {error.name}"), error.code

    @app.errorhandler(Exception)
    def any_error(error):  # a bug or a bad file must neither take the server down nor show
        # the page Python's words (a path, a class): the terminal has them
        log_failure(error, f"on {request.method} {request.path}")
        return jsonify(error=FAILED), 500

    @app.get("/")
    def index():
        return send_file(WEB / "index.html")

    @app.get("/api/paintings")
    def paintings():
        return jsonify(folder=str(workbench.folder) if workbench.folder else None,
                       paintings=workbench.names(), methods=list(METHODS),
                       formats=list(FORMATS), max_upload_mb=workbench.max_upload / 1024 / 1024,
                       warn_share=workbench.warn_share)

    @app.post("/api/open")
    def open_painting():
        if "file" in request.files:
            path, sent = workbench.save_upload(request.files["file"])
            name = Path(sent).name
            try:
                painting = workbench.open(path, name or "upload", uploaded_as=sent)
            except Exception as error:
                path.unlink(missing_ok=True)
                raise UserError(f"{name or 'the upload'} could not be opened: "
                                f"{_reason(error, path, name)}") from None
        elif request.mimetype == "multipart/form-data":
            raise UserError("the upload holds no file (a field named file)")
        else:
            name = _json_object(request).get("name")
            if not isinstance(name, str):
                raise UserError("name one of the folder's paintings to open, or upload one")
            path = workbench.from_folder(name)
            try:
                painting = workbench.open(path, name)
            except Exception as error:
                raise UserError(f"{name} could not be opened: "
                                f"{_reason(error, path, name)}") from None
        return jsonify(painting.summary())

    @app.get("/api/<painting_id>/view.jpg")
    def view(painting_id):
        return _send(_jpeg(workbench.get(painting_id).view), "image/jpeg")

    @app.get("/api/<painting_id>/detected.png")
    def detected(painting_id):
        """The detected losses at the view's size; with threshold (the slider's), exactly as a
        restore marks them there (cleaned of specks, with the margin, none on a painting
        judged undamaged): what the page shows once the slider rests."""
        painting = workbench.get(painting_id)
        threshold = _threshold(request.args.get("threshold"))
        found = painting.detected if threshold is None else painting.base([], threshold)[0]
        return _send_png(_view_mask(found, painting.view_size))

    @app.post("/api/<painting_id>/select")
    def select(painting_id):
        painting = workbench.get(painting_id)
        sent = _json_object(request)
        x, y = _point(sent, painting)
        out, similar = _flag(sent.get("out"), "out"), _flag(sent.get("similar"), "similar")
        if out:  # a shift-click: paint that must stay out of every selection
            painting.points_out.append((x, y))
            return jsonify(selection=None, out=[x, y])
        recipe = ("click", x, y, similar, tuple(painting.points_out))
        if painting.recipes.get(recipe) in painting.selections:  # made before (opened again)
            key = painting.recipes[recipe]
            return jsonify(selection=key, **workbench.judge(painting.selections[key][0]))
        clicks = dataclasses.replace(painting.detector, points=((x, y),),
                                     points_out=tuple(painting.points_out), similar=False)
        under = clicks.under_clicks(painting.scan.colour)  # segmented once for both below
        own = clicks(painting.scan.colour, under=under).astype(bool)  # the loss under the click
        found = own
        if similar:  # and every loss like it
            found = dataclasses.replace(clicks, similar=True)(
                painting.scan.colour, model=painting.model(), under=under).astype(bool)
        key = uuid.uuid4().hex[:12]
        painting.selections[key] = (found, {"point": [x, y], "similar": similar,
                                            "points_out": list(clicks.points_out)}, own)
        painting.recipes[recipe] = key
        return jsonify(selection=key, **workbench.judge(found))

    @app.post("/api/<painting_id>/learn")
    def learn(painting_id):
        """Every loss like the clicked and brushed ones, none like the paint shift-clicked or
        erased: a new selection."""
        painting = workbench.get(painting_id)
        keys = _keys(request.form)
        strokes = _strokes(request)
        drawn = hashlib.sha256()
        for tool, width, points in strokes:
            drawn.update(f"{tool} {width!r} {len(points)};".encode() + points.tobytes())
        recipe = ("learn", tuple(keys), drawn.hexdigest(), tuple(painting.points_out))
        if painting.recipes.get(recipe) in painting.selections:  # made before (opened again)
            key = painting.recipes[recipe]
            return jsonify(selection=key, **workbench.judge(painting.selections[key][0]))
        found = painting.learn(keys, strokes)
        key = uuid.uuid4().hex[:12]
        painting.selections[key] = (found, {"learned_from": {  # a selection learned is no click
            "clicks": [painting.selections[k][1]["point"] for k in keys
                       if "point" in painting.selections[k][1]],
            "strokes": len(strokes), "points_out": [list(p) for p in painting.points_out]}},
            np.zeros_like(found))
        painting.recipes[recipe] = key
        return jsonify(selection=key, **workbench.judge(found))

    @app.get("/api/<painting_id>/probability.png")
    def probability(painting_id):
        """The detector's probability of loss at the view's size (0-255), for the slider."""
        painting = workbench.get(painting_id)
        if painting.probability is None:
            raise UserError("this detection has no probability map")
        view = cv2.resize(painting.probability, painting.view_size, interpolation=cv2.INTER_LINEAR)
        return _send_png(to_uint8(view))

    @app.get("/api/<painting_id>/selection/<key>.png")
    def selection(painting_id, key):
        painting = workbench.get(painting_id)
        if key not in painting.selections:
            raise UserError("no such selection")
        return _send_png(_view_mask(painting.selections[key][0], painting.view_size))

    @app.post("/api/<painting_id>/restore")
    def restore(painting_id):
        painting = workbench.get(painting_id)
        method = _choice(request.form.get("method", "auto"), "the method", METHODS)
        workbench.restore(painting, method, _keys(request.form), _strokes(request),
                          _threshold(request.form.get("threshold")),
                          confirmed=_flag(request.form.get("confirmed"), "confirmed"),
                          on_top=request.form.get("on_top") or None)
        return jsonify(state="running")

    @app.post("/api/<painting_id>/mask")
    def load_mask(painting_id):
        """A mask file of the user's, in place of the detected losses."""
        painting = workbench.get(painting_id)
        if "file" not in request.files:
            raise UserError("send the mask as a file")
        invert = _flag(request.form.get("invert"), "invert")
        path, sent = workbench.save_upload(request.files["file"])
        name = Path(sent).name
        try:
            fraction = painting.load_mask(path, sent, invert)
        except Exception as error:
            raise UserError(f"{name or 'the mask'}: {_reason(error, path, name)}") from None
        finally:
            path.unlink(missing_ok=True)
        return jsonify(fraction=fraction, detection=painting.loaded)

    @app.get("/api/<painting_id>/status")
    def status(painting_id):
        job = dict(workbench.get(painting_id).job)
        if job.get("state") == "running":
            now = time.time()
            job["elapsed"] = round(now - job["started"], 1)
            share = job.get("progress", 0.0)
            if "fill_started" in job and 0.02 <= share < 1.0:
                # the time left, from the fill's pace so far
                job["left"] = round((now - job["fill_started"]) * (1 - share) / share, 1)
        return jsonify(job)

    @app.get("/api/<painting_id>/after.jpg")
    def after(painting_id):
        """The view of a restoration (result: its id; the latest without)."""
        painting = workbench.get(painting_id)
        colour, _ = painting.after(request.args.get("result"))
        return _send(_jpeg(to_uint8(thumbnail(colour, painting.view_size[0]))), "image/jpeg")

    @app.get("/api/<painting_id>/region")
    def region(painting_id):
        """The painting (which=before) or its restoration (after) in the rectangle x0, y0, x1,
        y1 (the painting's pixels) at about width pixels wide, for the zoomed view: its own
        pixels from 1:1 on (exact, 8-bit), a JPEG of a pyramid level below; the rectangle
        covered is in the X-Region header. result: the restoration's id (the latest
        without)."""
        painting = workbench.get(painting_id)
        which = _choice(request.args.get("which", "before"), "which", ("before", "after"))
        pyramid = painting.pyramids["before"] if which == "before" else painting.after(
            request.args.get("result"))[1]
        part, box = pyramid.region(*_region(painting, request.args))
        if part.shape[1] == box[2] - box[0]:  # its own pixels: exact, and BMP (1 ms, not
            # the 100 ms of a PNG of a noisy megapixel; the bytes only cross this machine)
            data, kind = cv2.imencode(".bmp", cv2.cvtColor(part, cv2.COLOR_RGB2BGR))[1], "image/bmp"
            data = data.tobytes()
        else:
            data, kind = _jpeg(part), "image/jpeg"
        response = _send(data, kind)
        response.headers["X-Region"] = ",".join(map(str, box))
        return response

    @app.get("/api/<painting_id>/mask-region")
    def mask_region(painting_id):
        """The mask before the strokes (the detected losses at threshold and the selections
        named) in the rectangle x0, y0, x1, y1 at about width pixels wide, for the zoomed view:
        a PNG, magenta where marked (a coarser pixel is marked if any pixel it covers is), the
        rest transparent; the rectangle covered is in the X-Region header."""
        painting = workbench.get(painting_id)
        _, pyramid, _ = painting.base(_keys(request.args),
                                      _threshold(request.args.get("threshold")))
        part, box = pyramid.region(*_region(painting, request.args))
        # two colours: transparent and the mask's magenta (7 ms for 2 MP, where RGBA took 30)
        image = Image.fromarray((part > 0).astype(np.uint8), "P")
        image.putpalette([255, 255, 255, *MASK_RGB])
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1, transparency=0, bits=1)
        response = _send(buffer.getvalue(), "image/png")
        response.headers["X-Region"] = ",".join(map(str, box))
        return response

    @app.get("/api/<painting_id>/crop.png")
    def crop(painting_id):
        """A square of the painting at its own resolution (before, or after: the restoration
        result, the latest without), for the 1:1 view."""
        painting = workbench.get(painting_id)
        which = _choice(request.args.get("which", "before"), "which", ("before", "after"))
        pixels = painting.after(request.args.get("result"))[0] if which == "after" else \
            painting.scan.colour
        size = _number(request.args.get("size", "384"), "size", 16, 1024, whole=True)
        x, y = _point(request.args, painting)
        height, width = painting.scan.shape
        x0 = min(max(0, x - size // 2), max(0, width - size))
        y0 = min(max(0, y - size // 2), max(0, height - size))
        part = pixels[y0:y0 + size, x0:x0 + size]
        return _send_png(to_uint8(thumbnail(part, part.shape[1])))

    @app.post("/api/<painting_id>/save")
    def save(painting_id):
        painting = workbench.get(painting_id)
        sent = _json_object(request)
        fmt = _choice(sent.get("format", "png"), "the format", FORMATS)
        result = sent.get("result")
        if result is not None and not isinstance(result, str):
            raise UserError("result must be the id of a restoration")
        outputs = workbench.save(painting, fmt, result)
        return jsonify(saved={kind: path.name for kind, path in outputs.items()},
                       folder=str(workbench.out.resolve()))

    @app.get("/api/<painting_id>/download/<kind>")
    def download(painting_id, kind):
        painting = workbench.get(painting_id)
        if kind not in painting.saved:
            raise UserError("save the painting first")
        return send_file(painting.saved[kind].resolve(), as_attachment=True,
                         download_name=painting.saved[kind].name)

    return app


METHODS = (*fills.METHODS, *fills.SHIPPED_MODELS)  # the page's methods: a fill or a model
FAILED = "the workbench failed on this (the terminal running app.py has the details)"
MAX_JSON = 1 << 20  # bytes of a request's JSON body (the page's are a few dozen)
PYTHON_WORDS = re.compile(r"\s*\(\w+(Error|Exception|Warning)\b.*\)$")  # "(OSError: ...)"


def log_failure(error, doing):
    """An unforeseen failure on stderr, for the developer: what the workbench was doing, the
    frames, and the error's own words on one printable line (they may quote a name sent)."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    words = "".join(traceback.format_exception_only(error)).strip()
    print(f"the workbench failed {printable(doing)}:\nTraceback (most recent call last):\n"
          f"{frames}{printable(words)}", file=sys.stderr, flush=True)


def _same(given, token):
    """Whether a token sent (any text, in any script) is this run's, in constant time."""
    return secrets.compare_digest(given.encode("utf-8", "replace"), token.encode())


def _number(value, what, low, high, whole=False):
    """A number of a request (a JSON number, or the text of a query or form field), checked:
    finite, from low to high, and whole if asked; anything else is refused with one line."""
    if isinstance(value, str):
        try:
            value = int(value) if whole else float(value)
        except ValueError:
            value = None
    kinds = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise UserError(f"{what} must be a {'whole ' if whole else ''}number from {low:,} to "
                        f"{high:,}")  # NaN is not between them either
    return value


def _choice(value, what, allowed):
    """A value of a request that must be one of allowed (strings)."""
    if not isinstance(value, str) or value not in allowed:
        raise UserError(f"{what} must be {', '.join(allowed[:-1])} or {allowed[-1]}")
    return value


def _flag(value, what):
    """A yes or no of a request: JSON true or false, a form's "1" or "0", or absent (no)."""
    if value in (None, False, "", "0"):
        return False
    if value is True or value == "1":
        return True
    raise UserError(f"{what} must be true or false (1 or 0)")


def _json_object(request):
    """The JSON object a request's body holds ({} for an empty body); anything else is refused
    with one line."""
    from werkzeug.exceptions import RequestEntityTooLarge
    too_large = RequestEntityTooLarge(f"a request's JSON is at most {MAX_JSON // 1024} KB")
    if (request.content_length or 0) > MAX_JSON:
        raise too_large
    data = request.get_data(cache=False)
    if len(data) > MAX_JSON:
        raise too_large
    if not data.strip():
        return {}
    try:
        sent = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: [[[[... nested too deep
        sent = None
    if not isinstance(sent, dict):
        raise UserError("the request's body must be a JSON object")
    return sent


def _point(values, painting):
    """The point x, y of a request (a JSON body or a query) in the page's view, checked, in the
    painting's pixels."""
    x, y = (_number(values.get(k), k, -FARTHEST, FARTHEST) for k in ("x", "y"))
    return painting.to_full(x, y)


def _keys(values):
    """The selections named by a request (its comma-separated field selections)."""
    return [k for k in values.get("selections", "").split(",") if k]


def _strokes(request):
    """The brush and eraser strokes of a request (read_strokes'), sent as a file: a long
    session's strokes pass Flask's 500 KB limit of a form field."""
    if "strokes" in request.form:
        raise UserError("send the strokes as a file (strokes.json), not as a form field")
    sent = request.files.get("strokes")
    return read_strokes(sent.read().decode("utf-8", "replace") if sent else "[]")


def _send(data, mimetype):
    from flask import Response
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "no-store"})


def _send_png(array):
    return _send(_png(array), "image/png")


def _region(painting, args):
    """(x0, y0, x1, y1, width) of a /region or /mask-region request, within the painting."""
    height, width = painting.scan.shape
    try:
        x0, y0, x1, y1, wide = (int(_number(args.get(k), k, -FARTHEST, FARTHEST))
                                for k in ("x0", "y0", "x1", "y1", "width"))
    except UserError:
        raise UserError(f"a region needs whole numbers x0, y0, x1, y1 and width, each within "
                        f"{FARTHEST:,} pixels") from None
    x0, x1 = max(0, min(width, x0)), max(0, min(width, x1))
    y0, y1 = max(0, min(height, y0)), max(0, min(height, y1))
    if x1 <= x0 or y1 <= y0:
        raise UserError("the region is outside the painting")
    return x0, y0, x1, y1, max(1, min(4096, wide))


def _threshold(text):
    """The threshold slider's value from a request (None: the one set)."""
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"threshold {text[:20]!r} is not a number") from None
    if not 0 < value < 1:
        raise UserError(f"threshold {text[:20]!r} must be between 0 and 1")
    return value


def _reason(error, path, name):
    """Why the file at path (sent as name) could not be used, for the page: a UserError's own
    words, the path (an upload's is a temporary of this server) given as the name, without
    Python's name for the failure; anything else is unforeseen, and goes to the terminal."""
    if not isinstance(error, UserError):
        log_failure(error, f"reading {name or path}")
        return "not a readable image, or the workbench failed on it (the terminal says which)"
    words = str(error).replace(f"{path}: ", "").replace(str(path), name or "the file")
    return PYTHON_WORDS.sub("", words)
