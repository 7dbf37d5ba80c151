"""Fill damage you point at: drag rectangles over a painting to fill the whitish pixels inside
them, or click on losses to select each one, and fill them as restore.py does.

A window shows the painting. Drag a rectangle: inside it the whitish pixels (every channel at
least --threshold) become the mask, dilated by one pixel to take in their blended edges. Click on
a loss (a click without dragging): the loss under it is selected, its connected extent bounded
by the paint's edges (detection/detect.py), and nothing it is not connected to; --similar also
selects every loss like the clicked ones across the painting, and --point-out marks paint that no
click may select. Backspace takes back the last rectangle or click; Enter, Space or Esc finishes.
The mask is the union of both, filled by restore.py's default fill, auto (or --method). The result is written to a
new file (default <name>_restored.png beside the painting, or .tif with --format tiff) with the
mask (<name>_mask.png), an overlay figure (<name>_figure.jpg) and a record of how it was made
(<name>_record.json) beside it, named and written as restore.py writes them (for -o X.tif:
X_mask.png, X_figure.jpg, X_record.json). Every pixel outside the mask is kept
exactly, at the painting's own depth, with its alpha, gray or colour, ICC profile and EXIF; the
painting itself is never written to. Without a display, give rectangles with --roi and clicks
with --point.

examples:
  python pixel_diff.py painting.jpg                         # drag rectangles, click losses
  python pixel_diff.py painting.jpg --roi 120,40,200,150 --roi 400,300,60,60 -o fixed.tif
  python pixel_diff.py page.png --point 410,220 --point 95,630 --grow 1
  python pixel_diff.py painting.jpg --threshold 200 --method ns --radius 5
"""
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from detection.detect import Detector, planes
from filling import registry as fills
from filling.fill import fill
from scans.outputs import check_outputs, sha256, tool_record
from scans.saving import output_set, refuse_foreign, restoration_record, write_restoration
from scans.scan import FORMATS, SUFFIX, read_scan
from utils import cli
from utils.errors import UserError
from utils.images import to_float, to_uint8
from utils.plotting import thumbnail

WINDOW = ("pixel_diff: drag rectangles, click losses; Backspace undoes, Enter finishes")
CLICK = 4  # a press and release closer than this (screen pixels) is a click, not a drag


def parse_roi(text):
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--roi {text!r}: expected x,y,width,height in pixels, e.g. 10,20,100,50")
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise UserError(f"--roi {text!r}: x and y must be >= 0, width and height > 0")
    return x, y, w, h


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument("painting", help="the painting to restore (never modified)")
    p.add_argument("-o", "--out", help="output file, .png or .tif (default: <name>_restored.png "
                   "beside the painting)")
    p.add_argument("--format", choices=FORMATS, help="the output's format when -o does not say "
                   "it (default png)")
    p.add_argument("--roi", action="append", default=[], metavar="X,Y,W,H",
                   help="a rectangle in pixels, instead of drawing it (repeatable; headless)")
    p.add_argument("--point", action="append", default=[], type=cli.point, metavar="X,Y",
                   help="a click on a loss in pixels, instead of clicking it (repeatable; "
                        "headless): the loss under it is selected")
    p.add_argument("--point-out", action="append", default=[], type=cli.point, metavar="X,Y",
                   help="a click on paint that no --point may select (repeatable)")
    p.add_argument("--similar", action="store_true",
                   help="with --point: also every loss like the clicked ones across the painting")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing files that no earlier run of these tools made from "
                        "this painting (by default they are kept and nothing is written)")
    p.add_argument("--grow", type=cli.within(int, -1000, 1000, "number of pixels"), default=0,
                   metavar="PIXELS",
                   help="widen the losses selected by clicks by this many pixels (negative: "
                        "narrow them)")
    p.add_argument("--threshold", type=cli.within(int, 0, 255, "sample value"), default=150,
                   help="a pixel is whitish when every channel is at least this (0-255)")
    p.add_argument("--method", choices=fills.METHODS, default="auto",
                   help=f"the fill: {fills.describe()}")
    p.add_argument("--model", default=str(fills.DEFAULT_MODEL), metavar="PATH",
                   help=f"the model that {', '.join(fills.names('uses_model'))} use for wide "
                        f"losses: a file or a shipped model's name ('none': the pyramid fill)")
    p.add_argument("--radius", type=cli.within(int, 1, 100, "radius in pixels"), default=3,
                   help=f"{', '.join(fills.names('radius'))}: inpainting neighbourhood radius")
    return p.parse_args(argv)


def _has_display():
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY")
                                                       or os.environ.get("WAYLAND_DISPLAY"))


class Selection:
    """The rectangles dragged and the points clicked in the window, in screen pixels."""

    def __init__(self):
        self.rectangles, self.points, self.order = [], [], []
        self.start = self.current = None

    def on_mouse(self, event, x, y, flags, param):
        if event == cv2.EVENT_LBUTTONDOWN:
            self.start = self.current = (x, y)
        elif event == cv2.EVENT_MOUSEMOVE and self.start is not None:
            self.current = (x, y)
        elif event == cv2.EVENT_LBUTTONUP and self.start is not None:
            (x0, y0), self.start = self.start, None
            if abs(x - x0) < CLICK and abs(y - y0) < CLICK:
                self.points.append((x0, y0))
                self.order.append(self.points)
            else:
                self.rectangles.append((min(x, x0), min(y, y0), abs(x - x0), abs(y - y0)))
                self.order.append(self.rectangles)

    def undo(self):
        if self.order:
            self.order.pop().pop()

    def draw(self, bgr):
        shown = bgr.copy()
        for x, y, w, h in self.rectangles:
            cv2.rectangle(shown, (x, y), (x + w, y + h), (0, 0, 255), 2)
        for x, y in self.points:
            cv2.drawMarker(shown, (x, y), (255, 0, 255), cv2.MARKER_CROSS, 16, 2)
        if self.start is not None:
            cv2.rectangle(shown, self.start, self.current, (0, 255, 255), 1)
        return shown


def select_in_window(image):
    """Let the user drag rectangles and click losses over image (float RGB) in a window:
    ([(x, y, w, h), ...], [(x, y), ...]) in the painting's pixels."""
    bgr = cv2.cvtColor(to_uint8(image), cv2.COLOR_RGB2BGR)
    scale = min(1.0, 1400 / bgr.shape[1], 900 / bgr.shape[0])  # fit the screen
    if scale < 1.0:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    selection = Selection()
    # No toolbar or status bar: the window shows the painting alone, pixel for pixel.
    cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    cv2.setMouseCallback(WINDOW, selection.on_mouse)
    try:
        while True:
            cv2.imshow(WINDOW, selection.draw(bgr))
            key = cv2.waitKey(30) & 0xFF
            if key in (13, 10, 32, 27):  # Enter, Space, Esc
                break
            if key in (8, 127):  # Backspace, Delete
                selection.undo()
    finally:
        cv2.destroyAllWindows()
    rectangles = [(round(x / scale), round(y / scale), max(1, round(w / scale)),
                   max(1, round(h / scale))) for x, y, w, h in selection.rectangles]
    points = [(min(round(x / scale), image.shape[1] - 1), min(round(y / scale),
               image.shape[0] - 1)) for x, y in selection.points]
    return rectangles, points


def whitish_mask(pixels, rectangles, threshold):
    """1 where a pixel inside a rectangle has every channel >= threshold (0-255, on 8-bit
    values), dilated by one pixel."""
    height, width = pixels.shape[:2]
    whitish = planes(pixels)[0] >= threshold
    inside = np.zeros((height, width), bool)
    for x, y, w, h in rectangles:
        if x >= width or y >= height:
            raise UserError(f"rectangle {x},{y},{w},{h} lies outside the {width} x {height} "
                            f"painting")
        inside[y:y + h, x:x + w] = True
    mask = (whitish & inside).astype(np.uint8)
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)) & inside


def output_path(painting, out, fmt):
    """The output file: -o (its suffix naming the format), else <name>_restored beside it."""
    if out is None:
        return painting.with_name(f"{painting.stem}_restored{SUFFIX[fmt or 'png']}")
    out = Path(out)
    if out.is_dir():
        raise UserError(f"-o {out} is a folder: give a file name, e.g. "
                        f"{out / (painting.stem + '_restored.png')}")
    suffix = out.suffix.lower()
    formats = {".png": "png", ".tif": "tiff", ".tiff": "tiff"}
    if suffix not in formats:
        raise UserError(f"-o {out}: the output is written losslessly as .png or .tif, not "
                        f"{suffix or 'a file without suffix'}")
    if fmt and formats[suffix] != fmt:
        raise UserError(f"-o {out} and --format {fmt} disagree")
    return out


def main(args):
    start = time.perf_counter()
    painting = Path(args.painting)
    rectangles = [parse_roi(text) for text in args.roi]
    points = list(args.point)
    outputs = output_set(output_path(painting, args.out, args.format))
    check_outputs(list(outputs.values()), [painting])
    refuse_foreign(outputs.values(), painting, args.overwrite)
    method, model, model_file = fills.load_method(args.method, args.model)  # before any drawing
    scan = read_scan(painting)
    for warning in scan.warnings:
        print(f"warning: {painting}: {warning}", file=sys.stderr)
    if not rectangles and not points:
        if not _has_display():
            raise UserError("no display to draw on: pass rectangles with --roi x,y,w,h or clicks "
                            "with --point x,y")
        rectangles, points = select_in_window(to_float(scan.colour))
        if not rectangles and not points:
            raise UserError("no rectangle was drawn and no loss clicked: nothing to restore")
    mask = whitish_mask(scan.colour, rectangles, args.threshold)
    detector = Detector(points=tuple(points), points_out=tuple(args.point_out),
                        similar=args.similar, grow=args.grow)
    if points:
        mask |= detector(scan.colour)
    before = thumbnail(scan.colour)
    fill(scan.colour, mask, method, model, radius=args.radius)
    seconds = {"select_and_fill": round(time.perf_counter() - start, 3)}
    write_start = time.perf_counter()

    def record():
        seconds["write"] = round(time.perf_counter() - write_start, 3)
        source = {"source": "rectangles and clicks", "rectangles": rectangles,
                  "threshold": args.threshold, "clicks": detector.settings() if points else None}
        model_entry = None if model_file is None else {
            "path": str(Path(model_file).resolve()), "sha256": sha256(model_file)}
        return restoration_record(painting, scan, source, float(mask.mean()), args.method,
                                  model_entry,
                                  {"radius": args.radius}, seconds, tool_record())
    out = outputs["restored"]
    fmt = "png" if out.suffix.lower() == ".png" else "tiff"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_restoration(outputs, scan, mask, before, args.method, fmt, record)
    except OSError as error:
        raise UserError(f"cannot write {error.filename or out} ({error.strerror or error})")
    print(f"{len(rectangles)} rectangle(s), {len(points)} click(s), {int(mask.sum())} pixels "
          f"filled ({args.method}, radius {args.radius}) -> {out}, mask {outputs['mask']}")


if __name__ == "__main__":
    cli.run(main, parse_args)
