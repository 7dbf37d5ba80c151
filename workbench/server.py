"""The restorer's workbench behind app.py: a Flask app serving one local page (web/) and a small
JSON API over the same code restore.py runs: detection (detection/detect.py), filling at full
resolution (filling/fill.py) and saving the four files as a set (scans/saving.py).

The page works on a scaled view of the painting (at most VIEW_SIDE pixels on its longest side);
every computation happens on the full-resolution painting held here. The mask the page shows is
composed, as the saved mask is, of the detected losses, the selections made by clicks (each
computed here at full resolution), and the brush and eraser strokes the page sends at view size
(enlarged to the painting's size when restoring): mask = (detected | selections | brush) & ~eraser.

Safety: files are read only from FOLDER (a name from the browser must be one of the paintings
found in it) or from uploads, which are saved under names made here; outputs go only to OUT,
named by the painting's stem after werkzeug's secure_filename; nothing is written over an input
(scans.outputs.check_outputs, as in restore.py); an upload over the size limit, a file that is
not an image or a truncated one gets a message, not a crashed server.
"""
import dataclasses
import io
import secrets
import tempfile
import threading
import time
import uuid
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from detection.detect import Detector, full_size
from filling import registry as fills
from filling.fill import fill
from models.loading import load_inpainting_model
from scans.outputs import check_outputs, sha256, tool_record, writable_folder
from scans.saving import (foreign_files, is_output_name, output_paths, recorded_outputs,
                          restoration_record, write_restoration)
from scans.scan import FORMATS, check_size, header, read_scan
from utils.errors import UserError
from utils.images import find_images
from utils.plotting import thumbnail

WEB = Path(__file__).resolve().parent / "web"
VIEW_SIDE = 1600  # the page's view of a painting: at most this many pixels on its longest side


def _png(array):
    """PNG bytes of an 8-bit (H, W) or (H, W, 3) array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _jpeg(rgb):
    """JPEG bytes (quality 92) of an 8-bit RGB array: the page's views of the painting, which are
    only looked at (a PNG of a 1600 x 1200 view takes ten times as long to make); the 1:1 crops
    and every saved file are lossless."""
    return cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]),
                        [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _view_mask(mask, size):
    """A full-resolution mask (H, W) at the view's size (w, h): a view pixel is marked if any of
    the pixels it covers is."""
    small = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA)
    return np.where(small > 0, 255, 0).astype(np.uint8)


def _full_mask(png, shape):
    """A mask drawn at view size (PNG bytes; any nonzero alpha or colour marks) enlarged to shape
    (H, W), as detection enlarges its analysed copy's mask."""
    with Image.open(io.BytesIO(png)) as im:
        drawn = np.asarray(im.convert("RGBA"))
    marked = (drawn[..., 3] > 0) & (drawn[..., :3].max(axis=2) > 0)
    return full_size(marked, shape).astype(bool)


class Painting:
    """One painting open on the page: the full-resolution scan, its view, the masks and the
    restoration."""

    def __init__(self, path, name, detector, uploaded_as=None):
        self.id = uuid.uuid4().hex
        self.path, self.name, self.uploaded_as = Path(path), name, uploaded_as
        self.scan = read_scan(self.path, max_pixels=None)  # check_size weighed it first
        height, width = self.scan.shape
        self.scale = min(1.0, VIEW_SIDE / max(height, width))
        view_width = max(1, round(width * self.scale))
        self.view = (thumbnail(self.scan.colour, view_width) * 255 + 0.5).astype(np.uint8)
        self.view_size = (self.view.shape[1], self.view.shape[0])  # (w, h), as OpenCV takes it
        self.detector = detector
        start = time.perf_counter()
        self.probability = detector.probability(self.scan.colour)  # None: no slider
        self.threshold = detector.threshold
        self.detected = self.detected_at(self.threshold)
        self.detect_seconds = time.perf_counter() - start
        self.selections = {}  # id -> (full-resolution mask, the click in the painting's pixels)
        self.points_out = []  # shift-clicks: paint that no click may select
        self.job = {"state": "idle"}
        self.restored = None  # the restored scan's colour samples, once restored
        self.restoration = None  # how it was restored: the mask, the method, the times
        self.saved = {}
        self.lock = threading.Lock()

    def detected_at(self, threshold):
        """The detected losses (H, W) bool at a threshold of the probability map (or as the
        detector finds them, for a method without one)."""
        if self.probability is None:
            found = self.detector(self.scan.colour).astype(bool)
        else:
            found = self.detector.from_probability(self.probability, self.scan.shape,
                                                   threshold).astype(bool)
        if self.scan.alpha is not None:
            found[self.scan.alpha == 0] = False  # transparent pixels are not paint
        return found

    def summary(self):
        height, width = self.scan.shape
        return {"id": self.id, "name": self.name, "width": width, "height": height,
                "view_width": self.view_size[0], "view_height": self.view_size[1],
                "bits": self.scan.bits,
                "fraction": float(self.detected.mean()),
                "detection": self.detector.settings(),
                "probability": self.probability is not None,
                "detect_seconds": round(self.detect_seconds, 3),
                "warnings": list(self.scan.warnings)}

    def to_full(self, x, y):
        """A point of the view in the painting's pixels."""
        height, width = self.scan.shape
        return (min(width - 1, max(0, int(x / self.scale))),
                min(height - 1, max(0, int(y / self.scale))))


LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
MAX_OPEN_PIXELS = 100_000_000  # the largest painting opened or uploaded (app.py --max-pixels)
COOKIE = "workbench_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Workbench:
    """The state of one server: its folder, output folder, open paintings and loaded models."""

    def __init__(self, folder, out, max_upload_mb=200, max_pixels=None, detector=None,
                 hosts=LOCAL_NAMES):
        self.folder = Path(folder).resolve() if folder else None
        self.out = Path(out)
        self.max_upload = int(max_upload_mb * 1024 * 1024)
        # a painting is weighed against this before it is decoded (and against the memory)
        self.max_pixels = max_pixels or MAX_OPEN_PIXELS
        # this run's secret: in the address app.py prints, then in a cookie; every request needs
        # it, so no other web page the user visits can use the server
        self.token = secrets.token_urlsafe(24)
        self.hosts = None if hosts is None else set(hosts)  # the Host names it answers to
        self.detector = detector or Detector()
        self.uploads = Path(tempfile.mkdtemp(prefix="workbench-uploads-"))
        self.paintings = {}
        self.models, self.model_hashes = {}, {}
        self.tool = {**tool_record(), "command": ["app.py (the workbench)"]}
        self.models_lock = threading.Lock()
        self.save_lock = threading.Lock()

    def warm_up(self):
        """Load the detector and auto's model and run each once on a small image, so that the
        first painting opened and restored does not wait for them."""
        image = np.full((64, 96, 3), 128, np.uint8)
        self.detector(image)
        mask = np.zeros((64, 96), np.uint8)
        mask[16:48, 24:72] = 1
        _, model, _ = self.method("auto")
        fill(image, mask, "auto", model)

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
        check_size(path, None)  # and against the memory available
        painting = Painting(path, name, self.detector, uploaded_as)
        self.paintings[painting.id] = painting
        return painting

    def get(self, painting_id):
        painting = self.paintings.get(painting_id)
        if painting is None:
            raise UserError("this painting is no longer open: open it again")
        return painting

    def method(self, name):
        """(method, model, model file) for a method of the page: a fill method or a shipped
        model's name (filling/registry.py); each model loaded once."""
        if name not in (*fills.METHODS, *fills.SHIPPED_MODELS):
            raise UserError(f"unknown method {name!r}")
        method, path = fills.model_path(name)
        if path is None:
            return method, None, None
        with self.models_lock:
            if path not in self.models:
                self.models[path] = load_inpainting_model(path)
                self.model_hashes[path] = sha256(path)
        return method, self.models[path], path

    def mask(self, painting, selections, brush, eraser, threshold=None):
        """The full-resolution mask, (detected | selections | brush) & ~eraser, the detected
        losses at threshold (the slider's; default the detector's), and the numbers of pixels
        the brush and the eraser marked."""
        if threshold is not None and threshold != painting.threshold:
            if painting.probability is None:
                raise UserError("this detection has no threshold to change")
            painting.detected, painting.threshold = painting.detected_at(threshold), threshold
        mask = painting.detected.copy()
        for key in selections:
            if key not in painting.selections:
                raise UserError("a selection was lost: open the painting again")
            mask |= painting.selections[key][0]
        shape = painting.scan.shape
        brushed = _full_mask(brush, shape) if brush else np.zeros(shape, bool)
        erased = _full_mask(eraser, shape) if eraser else np.zeros(shape, bool)
        mask = (mask | brushed) & ~erased
        if painting.scan.alpha is not None:
            mask[painting.scan.alpha == 0] = False
        return mask, int(brushed.sum()), int(erased.sum())

    def restore(self, painting, method_name, selections, brush, eraser, threshold=None):
        """Start filling in a thread; the page polls the job."""
        with painting.lock:
            if painting.job["state"] == "running":
                raise UserError("this painting is being restored already")
            painting.job = {"state": "running", "phase": "preparing", "started": time.time()}
        threading.Thread(target=self._restore, daemon=True,
                         args=(painting, method_name, selections, brush, eraser,
                               threshold)).start()

    def _restore(self, painting, method_name, selections, brush, eraser, threshold):
        job = painting.job
        try:
            clock = time.perf_counter()
            mask, brushed, erased = self.mask(painting, selections, brush, eraser, threshold)
            fraction = float(mask.mean())
            if fraction == 1.0:
                raise UserError("the mask covers the whole painting: nothing to fill from")
            job["phase"] = "loading the model" if method_name in fills.SHIPPED_MODELS or (
                method_name in fills.FILLS and fills.FILLS[method_name].uses_model) else "filling"
            method, model, model_path = self.method(method_name)
            job["phase"] = "filling"
            colour = painting.scan.colour.copy()
            mask_seconds = time.perf_counter() - clock
            clock = time.perf_counter()
            job["fill_started"] = time.time()
            fill(colour, mask.astype(np.uint8), method, model,
                 progress=lambda share: job.update(progress=share))
            painting.restored = colour
            painting.restoration = {
                "mask": mask, "fraction": fraction, "method": method_name,
                "model": None if model_path is None else
                {"path": str(model_path), "sha256": self.model_hashes[model_path]},
                "selections": [painting.selections[k][1] for k in selections],
                "threshold": painting.threshold,
                "brush_pixels": brushed, "eraser_pixels": erased,
                "seconds": {"mask": round(mask_seconds, 3),
                            "fill": round(time.perf_counter() - clock, 3)}}
            painting.saved = {}
            job.update(state="done", phase="done", fraction=fraction)
        except Exception as error:  # the page shows it; the server goes on
            job.update(state="error", error=str(error) if isinstance(error, UserError) else
                       f"{type(error).__name__}: {error}")
        job["seconds"] = round(time.time() - job["started"], 3)

    def save(self, painting, fmt):
        """Write the restored painting, its mask, figure and record into OUT, as restore.py
        does; {kind: path}."""
        if painting.restored is None:
            raise UserError("restore the painting before saving it")
        if fmt not in FORMATS:
            raise UserError(f"unknown format {fmt!r}")
        with self.save_lock:  # two saves at once: one after the other, each its own set
            return self._save(painting, fmt)

    def _save(self, painting, fmt):
        from werkzeug.utils import secure_filename
        stem = Path(secure_filename(Path(painting.name).name)).stem or "painting"
        ours = recorded_outputs(self.out)  # earlier saves: replaceable, not inputs
        inputs = [painting.path, *(p for p in (find_images(self.folder) if self.folder else [])
                                   if p.resolve() not in ours)]
        writable_folder(self.out)
        # The painting's own name, unless files there belong to another painting (sub/x.jpg
        # beside x.jpg, two uploads whose names reduce to one) or to the user: then name-2, ...
        for number in range(1, 10000):
            name = stem if number == 1 else f"{stem}-{number}"
            outputs = output_paths(self.out, [Path(name)], fmt)[Path(name)]
            if not foreign_files(outputs.values(), painting.path, ours) and not any(
                    p.is_dir() for p in outputs.values()):
                break
        else:
            raise UserError(f"no free name for {stem} in {self.out}: clear it out")
        check_outputs(list(outputs.values()), inputs)
        r = painting.restoration
        scan = painting.scan
        result = dataclasses.replace(scan, colour=painting.restored)
        before = thumbnail(scan.colour)
        start = time.perf_counter()

        def record():
            seconds = {**r["seconds"], "write": round(time.perf_counter() - start, 3)}
            detector = painting.detector.settings()
            if "threshold" in detector:  # the slider's, where the page moved it
                detector["threshold"] = r["threshold"]
            source = {"source": "workbench", "detector": detector,
                      "clicks": r["selections"], "brush_pixels": r["brush_pixels"],
                      "eraser_pixels": r["eraser_pixels"]}
            record = restoration_record(painting.path, scan, source, r["fraction"], r["method"],
                                        r["model"], {"format": fmt}, seconds, self.tool)
            if painting.uploaded_as is not None:
                record["input"]["uploaded_as"] = painting.uploaded_as
            return record
        write_restoration(outputs, result, r["mask"], before, r["method"], fmt, record)
        painting.saved = outputs
        return outputs


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
                                 f"not {host}"), 403
        given = request.args.get("token")
        if given is not None and secrets.compare_digest(given, workbench.token):
            response = redirect(request.path)  # the token leaves the address bar
            response.set_cookie(COOKIE, workbench.token, httponly=True, samesite="Strict")
            return response
        if not secrets.compare_digest(request.cookies.get(COOKIE, ""), workbench.token):
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
        return jsonify(error=str(error)), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        return jsonify(error=f"the upload is over the limit of "
                             f"{workbench.max_upload / 1024 / 1024:g} MB (app.py "
                             f"--max-upload-mb)"), 413

    @app.errorhandler(HTTPException)
    def http_error(error):
        return jsonify(error=f"{error.code} {error.name}"), error.code

    @app.errorhandler(Exception)
    def any_error(error):  # a bad file must not take the server down
        return jsonify(error=f"{type(error).__name__}: {error}"), 500

    @app.get("/")
    def index():
        return send_file(WEB / "index.html")

    @app.get("/api/paintings")
    def paintings():
        return jsonify(folder=str(workbench.folder) if workbench.folder else None,
                       paintings=workbench.names(), methods=[*fills.METHODS, *fills.SHIPPED_MODELS],
                       formats=list(FORMATS), max_upload_mb=workbench.max_upload / 1024 / 1024)

    @app.post("/api/open")
    def open_painting():
        if "file" in request.files:
            path, sent = workbench.save_upload(request.files["file"])
            try:
                painting = workbench.open(path, Path(sent).name or "upload", uploaded_as=sent)
            except Exception as error:
                path.unlink(missing_ok=True)
                raise UserError(f"{Path(sent).name or 'the upload'} could not be opened: "
                                f"{_reason(error)}")
        else:
            name = (request.get_json(silent=True) or {}).get("name", "")
            path = workbench.from_folder(name)
            try:
                painting = workbench.open(path, name)
            except Exception as error:
                raise UserError(f"{name} could not be opened: {_reason(error)}")
        return jsonify(painting.summary())

    @app.get("/api/<painting_id>/view.jpg")
    def view(painting_id):
        return _send(_jpeg(workbench.get(painting_id).view), "image/jpeg")

    @app.get("/api/<painting_id>/detected.png")
    def detected(painting_id):
        painting = workbench.get(painting_id)
        return _send_png(_view_mask(painting.detected, painting.view_size))

    @app.post("/api/<painting_id>/select")
    def select(painting_id):
        painting = workbench.get(painting_id)
        point = request.get_json(force=True)
        x, y = painting.to_full(float(point["x"]), float(point["y"]))
        if point.get("out"):  # a shift-click: paint that must stay out of every selection
            painting.points_out.append((x, y))
            return jsonify(selection=None, out=[x, y])
        clicks = dataclasses.replace(painting.detector, points=((x, y),),
                                     points_out=tuple(painting.points_out),
                                     similar=bool(point.get("similar")))
        found = clicks(painting.scan.colour).astype(bool)
        key = uuid.uuid4().hex[:12]
        painting.selections[key] = (found, {"point": [x, y], "similar": clicks.similar,
                                            "points_out": list(clicks.points_out)})
        return jsonify(selection=key, fraction=float(found.mean()))

    @app.get("/api/<painting_id>/probability.png")
    def probability(painting_id):
        """The detector's probability of loss at the view's size (0-255), for the slider."""
        painting = workbench.get(painting_id)
        if painting.probability is None:
            raise UserError("this detection has no probability map")
        view = cv2.resize(painting.probability, painting.view_size, interpolation=cv2.INTER_LINEAR)
        return _send_png(np.clip(view * 255 + 0.5, 0, 255).astype(np.uint8))

    @app.get("/api/<painting_id>/selection/<key>.png")
    def selection(painting_id, key):
        painting = workbench.get(painting_id)
        if key not in painting.selections:
            raise UserError("no such selection")
        return _send_png(_view_mask(painting.selections[key][0], painting.view_size))

    @app.post("/api/<painting_id>/restore")
    def restore(painting_id):
        painting = workbench.get(painting_id)
        keys = [k for k in request.form.get("selections", "").split(",") if k]
        brush = request.files["brush"].read() if "brush" in request.files else None
        eraser = request.files["eraser"].read() if "eraser" in request.files else None
        threshold = request.form.get("threshold")
        try:
            threshold = None if threshold in (None, "") else float(threshold)
        except ValueError:
            raise UserError(f"threshold {threshold!r} is not a number") from None
        workbench.restore(painting, request.form.get("method", "auto"), keys, brush, eraser,
                          threshold)
        return jsonify(state="running")

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
        painting = workbench.get(painting_id)
        if painting.restored is None:
            raise UserError("not restored yet")
        view = thumbnail(painting.restored, painting.view_size[0]) * 255 + 0.5
        return _send(_jpeg(view.astype(np.uint8)), "image/jpeg")

    @app.get("/api/<painting_id>/crop.png")
    def crop(painting_id):
        """A square of the painting at its own resolution (before or after), for the 1:1 view."""
        painting = workbench.get(painting_id)
        which = request.args.get("which", "before")
        pixels = painting.restored if which == "after" else painting.scan.colour
        if pixels is None:
            raise UserError("not restored yet")
        size = min(1024, max(16, int(request.args.get("size", 384))))
        x, y = painting.to_full(float(request.args["x"]), float(request.args["y"]))
        height, width = painting.scan.shape
        x0 = min(max(0, x - size // 2), max(0, width - size))
        y0 = min(max(0, y - size // 2), max(0, height - size))
        part = pixels[y0:y0 + size, x0:x0 + size]
        return _send_png((thumbnail(part, part.shape[1]) * 255 + 0.5).astype(np.uint8))

    @app.post("/api/<painting_id>/save")
    def save(painting_id):
        painting = workbench.get(painting_id)
        fmt = (request.get_json(silent=True) or {}).get("format", "png")
        outputs = workbench.save(painting, fmt)
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


def _send(data, mimetype):
    from flask import Response
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "no-store"})


def _send_png(array):
    return _send(_png(array), "image/png")


def _reason(error):
    if isinstance(error, UserError):
        return str(error)
    return f"not a readable image ({type(error).__name__}: {error})"
