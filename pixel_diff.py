"""Fill damage you point at: drag rectangles over a painting to fill the whitish pixels inside
them, or click on losses to select each one, and fill them as restore.py does.

A window shows the painting. Drag a rectangle: inside it the whitish pixels (every channel at
least --threshold) become the mask, dilated by one pixel to take in their blended edges. Click on
a loss (a click without dragging): the loss under it is selected, its connected extent bounded
by the paint's edges (detection/detect.py), and nothing it is not connected to; --similar also
selects every loss like the clicked ones across the painting, and --point-out marks paint that no
click may select. + and - zoom (up to 16 window pixels for each of the painting's), 0 shows the
whole painting, 1 its own pixels; a drag with the middle or right button pans. Backspace takes
back the last rectangle or click; Enter, Space or Esc finishes.
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
  python pixel_diff.py painting.jpg --mask losses.png     # your own mask, filled as restore.py does
"""
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from detection.detect import Detector
from detection.maps import planes
from filling import registry as fills
from restoration import pipeline
from scans.outputs import check_outputs, tool_record
from scans.saving import is_output_name, output_set, refuse_foreign
from scans.scan import FORMATS, SUFFIX
from utils import cli
from utils.errors import UserError
from utils.files import remove_stale_partials
from utils.pyramid import ViewPyramid

WINDOW = ("pixel_diff: drag rectangles, click losses; + - 0 1 zoom, a middle or right drag "
          "pans; Backspace undoes, Enter finishes")
CLICK = 4  # a press and release closer than this (screen pixels) is a click, not a drag
MAX_ZOOM = 16.0  # window pixels for each of the painting's, at most


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
    p.add_argument("--mask", metavar="FILE",
                   help="your own mask of the painting's losses (white or nonzero = loss), added "
                        "to the rectangles and clicks (or alone)")
    p.add_argument("--mask-invert", action="store_true",
                   help="the --mask file marks losses black on white")
    p.add_argument("--allow-large-mask", action="store_true",
                   help=f"fill a mask over {round(100 * pipeline.LARGE_SHARE)}%% of the painting (refused "
                        f"by default: such a fill invents most of the picture)")
    p.add_argument("--warn-share", type=cli.fraction, default=pipeline.WARN_SHARE,
                   metavar="SHARE", help="warn when the mask covers more than this share of the "
                                         "painting (0-1)")
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


class View:
    """What the window shows: the painting from (x0, y0) of its pixels at zoom (window pixels
    for each of the painting's), between the whole painting (fit) and MAX_ZOOM, cut from a
    pyramid of it, so that a step costs the window's size, not the scan's."""

    def __init__(self, pixels, room=(1400, 900)):
        self.pyramid = ViewPyramid(pixels)
        self.height, self.width = pixels.shape[:2]
        self.fit = min(1.0, room[0] / self.width, room[1] / self.height)
        self.size = (max(1, round(self.width * self.fit)), max(1, round(self.height * self.fit)))
        self.zoom, self.x0, self.y0 = self.fit, 0.0, 0.0

    def to_painting(self, x, y):
        return self.x0 + x / self.zoom, self.y0 + y / self.zoom

    def to_window(self, x, y):
        return round((x - self.x0) * self.zoom), round((y - self.y0) * self.zoom)

    def zoom_at(self, zoom, x, y):
        """Zoom to zoom (clipped to fit .. MAX_ZOOM) keeping the painting's pixel under the
        window's (x, y) where it is."""
        px, py = self.to_painting(x, y)
        self.zoom = min(MAX_ZOOM, max(self.fit, zoom))
        self.x0, self.y0 = px - x / self.zoom, py - y / self.zoom
        self.keep()

    def pan(self, dx, dy):
        """Move the painting by (dx, dy) window pixels."""
        self.x0 -= dx / self.zoom
        self.y0 -= dy / self.zoom
        self.keep()

    def keep(self):
        """The window stays over the painting."""
        self.x0 = min(max(0.0, self.x0), max(0.0, self.width - self.size[0] / self.zoom))
        self.y0 = min(max(0.0, self.y0), max(0.0, self.height - self.size[1] / self.zoom))

    def render(self):
        """The window's picture (BGR): the painting's pixels, each a square from 1:1 on."""
        x1 = min(self.width, self.x0 + self.size[0] / self.zoom)
        y1 = min(self.height, self.y0 + self.size[1] / self.zoom)
        part, (a, b, c, _) = self.pyramid.region(
            int(self.x0), int(self.y0), int(np.ceil(x1)), int(np.ceil(y1)),
            max(1, round(self.size[0])))
        at = part.shape[1] / (c - a)  # the part's pixels for each of the painting's
        # window (X, Y) shows the part's ((x0 + X / zoom - a) * at, ...)
        warp = np.float32([[at / self.zoom, 0, (self.x0 - a) * at],
                           [0, at / self.zoom, (self.y0 - b) * at]])
        shown = cv2.warpAffine(part, warp, self.size, flags=(
            cv2.INTER_NEAREST if self.zoom >= 1 else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE)
        return cv2.cvtColor(shown, cv2.COLOR_RGB2BGR)


class Selection:
    """The rectangles dragged and the points clicked in the window, in the painting's pixels;
    + - 0 1 zoom, a drag with the middle or right button pans."""

    def __init__(self, view):
        self.view = view
        self.rectangles, self.points, self.order = [], [], []
        self.start = self.current = None  # a drag under way, in window pixels
        self.panning = None
        self.shown = None  # the painting as the window shows it, until the view changes

    def on_mouse(self, event, x, y, flags, param):
        # (the wheel is left to the window: OpenCV's Qt windows enlarge their picture with it,
        # and a second zoom here would fight theirs)
        if event in (cv2.EVENT_MBUTTONDOWN, cv2.EVENT_RBUTTONDOWN):
            self.panning = (x, y)
        elif event == cv2.EVENT_MOUSEMOVE and self.panning is not None:
            self.view.pan(x - self.panning[0], y - self.panning[1])
            self.panning, self.shown = (x, y), None
        elif event in (cv2.EVENT_MBUTTONUP, cv2.EVENT_RBUTTONUP):
            self.panning = None
        elif event == cv2.EVENT_LBUTTONDOWN:
            self.start = self.current = (x, y)
        elif event == cv2.EVENT_MOUSEMOVE and self.start is not None:
            self.current = (x, y)
        elif event == cv2.EVENT_LBUTTONUP and self.start is not None:
            (sx, sy), self.start = self.start, None
            if abs(x - sx) < CLICK and abs(y - sy) < CLICK:
                px, py = self.view.to_painting(sx, sy)
                self.points.append((min(int(px), self.view.width - 1),
                                    min(int(py), self.view.height - 1)))
                self.order.append(self.points)
            else:
                ax, ay = self.view.to_painting(min(x, sx), min(y, sy))
                bx, by = self.view.to_painting(max(x, sx), max(y, sy))
                self.rectangles.append((round(ax), round(ay), max(1, round(bx) - round(ax)),
                                        max(1, round(by) - round(ay))))
                self.order.append(self.rectangles)

    def key(self, key):
        """The zoom's keys: + (or =) and - about the window's middle, 0 the whole painting, 1
        one window pixel for each of the painting's."""
        middle = (self.view.size[0] / 2, self.view.size[1] / 2)
        zoom = {ord("+"): self.view.zoom * 2, ord("="): self.view.zoom * 2,
                ord("-"): self.view.zoom / 2, ord("0"): self.view.fit, ord("1"): 1.0}.get(key)
        if zoom is not None:
            self.view.zoom_at(zoom, *middle)
            self.shown = None

    def undo(self):
        if self.order:
            self.order.pop().pop()

    def draw(self):
        if self.shown is None:
            self.shown = self.view.render()
        shown = self.shown.copy()
        for x, y, w, h in self.rectangles:
            cv2.rectangle(shown, self.view.to_window(x, y), self.view.to_window(x + w, y + h),
                          (0, 0, 255), 2)
        for x, y in self.points:
            cv2.drawMarker(shown, self.view.to_window(x + 0.5, y + 0.5), (255, 0, 255),
                           cv2.MARKER_CROSS, 16, 2)
        if self.start is not None:
            cv2.rectangle(shown, self.start, self.current, (0, 255, 255), 1)
        return shown


def select_in_window(pixels):
    """Let the user drag rectangles and click losses over a painting's samples in a window,
    zoomed and panned as they like: ([(x, y, w, h), ...], [(x, y), ...]) in the painting's
    pixels."""
    selection = Selection(View(pixels))
    # No toolbar or status bar: the window shows the painting alone.
    cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    cv2.setMouseCallback(WINDOW, selection.on_mouse)
    try:
        while True:
            cv2.imshow(WINDOW, selection.draw())
            key = cv2.waitKey(30) & 0xFF
            if key in (13, 10, 32, 27):  # Enter, Space, Esc
                break
            if key in (8, 127):  # Backspace, Delete
                selection.undo()
            selection.key(key)
    finally:
        cv2.destroyAllWindows()
    return selection.rectangles, selection.points


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
    clock = pipeline.Clock()
    painting = Path(args.painting)
    rectangles = [parse_roi(text) for text in args.roi]
    points = list(args.point)
    if args.mask_invert and not args.mask:
        raise UserError("--mask-invert reads the mask given with --mask: give one")
    outputs = output_set(output_path(painting, args.out, args.format))
    check_outputs(list(outputs.values()), [painting, *([args.mask] if args.mask else [])])
    folder = outputs["restored"].parent
    if folder.is_dir():  # recovery first: a killed run's set is completed before it is judged
        remove_stale_partials(folder, is_output_name)
    refuse_foreign(outputs.values(), painting, args.overwrite)
    # the model before any drawing: a wrong file is said at once
    filler = pipeline.Filler.load(args.method, args.model, args.radius)
    scan = pipeline.read_painting(painting)
    for warning in scan.warnings:
        print(cli.printable(f"warning: {painting}: {warning}"), file=sys.stderr)
    if not rectangles and not points and not args.mask:
        if not _has_display():
            raise UserError("no display to draw on: pass rectangles with --roi x,y,w,h, clicks "
                            "with --point x,y, or a mask with --mask FILE")
        rectangles, points = select_in_window(scan.colour)
        if not rectangles and not points:
            raise UserError("no rectangle was drawn and no loss clicked: nothing to restore")
    mask = whitish_mask(scan.colour, rectangles, args.threshold)
    detector = Detector(points=tuple(points), points_out=tuple(args.point_out),
                        similar=args.similar, grow=args.grow)
    if points:
        mask |= detector(scan.colour)
    if args.mask:
        mask |= pipeline.read_mask(args.mask, painting, scan, args.mask_invert)
    source = (pipeline.mask_file_source(args.mask) if args.mask and not rectangles and not points
              else {"source": "rectangles and clicks", "rectangles": rectangles,
                    "threshold": args.threshold,
                    "clicks": detector.settings() if points else None,
                    "file": pipeline.mask_file_source(args.mask) if args.mask else None})
    hint = ("draw the rectangles over the whitish losses, lower --threshold, or click a loss"
            if rectangles else "check the mask and the clicks")
    try:
        fraction, warning = pipeline.check_mask(mask, scan, args.allow_large_mask,
                                                args.warn_share, hint)
    except pipeline.NothingFound as error:
        print(cli.printable(f"{painting}: {error}"))
        return
    if warning:
        print(cli.printable(f"warning: {painting}: {warning}"), file=sys.stderr)
    clock.lap("mask")
    restored, before = pipeline.restore(scan, mask, filler, in_place=True)
    seconds = clock.lap("fill")
    out = outputs["restored"]
    fmt = "png" if out.suffix.lower() == ".png" else "tiff"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        pipeline.save(outputs, restored, mask, before, filler, fmt, source, fraction, seconds,
                      tool_record(), painting, overwrite=args.overwrite)
    except OSError as error:
        raise UserError(f"cannot write {error.filename or out} ({error.strerror or error})")
    print(cli.printable(f"{len(rectangles)} rectangle(s), {len(points)} click(s), "
                        f"{int(mask.sum())} pixels filled ({args.method}, radius {args.radius}) "
                        f"-> {out}, mask {outputs['mask']}"))


if __name__ == "__main__":
    cli.run(main, parse_args, restoring=True)  # restoring: see utils/env.py
