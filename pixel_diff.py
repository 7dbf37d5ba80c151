"""Fill whitish damage inside rectangles you draw over a painting (OpenCV inpainting).

A window shows the painting: drag a rectangle and press Enter (or Space) to add it; drag more;
press Enter on an empty selection, or Esc, to finish. Inside each rectangle the whitish pixels
(every channel at least --threshold) become the mask, dilated by one pixel to take in their
blended edges, and OpenCV fills them. The result is written to a new file (default
<name>_restored.png beside the painting, or .tif with --format tiff) with the mask
(<name>_restored_mask.png) and a record of how it was made (<name>_restored_record.json) beside
it. Every pixel outside the mask is kept exactly, at the painting's own depth, with its alpha,
gray or colour, ICC profile and EXIF; the painting itself is never written to. Without a display,
give the rectangles with --roi.

examples:
  python pixel_diff.py painting.jpg                         # draw the rectangles
  python pixel_diff.py painting.jpg --roi 120,40,200,150 --roi 400,300,60,60 -o fixed.tif
  python pixel_diff.py painting.jpg --threshold 200 --method ns --radius 5
"""
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from utils import cli
from utils.detect import planes
from utils.images import UserError, to_uint8
from utils.outputs import (check_outputs, input_record, record_json, tool_record,
                           write_atomically, write_text)
from utils.restore import fill
from utils.scan import FORMATS, SUFFIX, Scan, read_scan, to_float, write_scan

WINDOW = "pixel_diff: drag a rectangle, Enter to add it; Enter on nothing or Esc to finish"


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
    p.add_argument("--threshold", type=int, default=150,
                   help="a pixel is whitish when every channel is at least this (0-255)")
    p.add_argument("--method", choices=["telea", "ns"], default="telea",
                   help="OpenCV inpainting: Telea's fast marching or Navier-Stokes")
    p.add_argument("--radius", type=cli.positive(int), default=3,
                   help="inpainting neighbourhood radius")
    return p.parse_args(argv)


def _has_display():
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY")
                                                       or os.environ.get("WAYLAND_DISPLAY"))


def draw_rectangles(image):
    """Let the user drag rectangles over image (float RGB) in a window; [(x, y, w, h), ...] in
    its pixels."""
    bgr = cv2.cvtColor(to_uint8(image), cv2.COLOR_RGB2BGR)
    scale = min(1.0, 1400 / bgr.shape[1], 900 / bgr.shape[0])  # fit the screen
    if scale < 1.0:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    rectangles = []
    # No toolbar or status bar: the window shows the painting alone, pixel for pixel.
    cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    try:
        while True:
            shown = bgr.copy()
            for x, y, w, h in rectangles:
                cv2.rectangle(shown, (int(x * scale), int(y * scale)),
                              (int((x + w) * scale), int((y + h) * scale)), (0, 0, 255), 2)
            x, y, w, h = cv2.selectROI(WINDOW, shown, showCrosshair=False, fromCenter=False)
            if w == 0 or h == 0:
                break
            rectangles.append((round(x / scale), round(y / scale), round(w / scale),
                               round(h / scale)))
    finally:
        cv2.destroyAllWindows()
    return rectangles


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
    if not 0 <= args.threshold <= 255:
        raise UserError(f"--threshold {args.threshold}: must be within 0-255")
    rectangles = [parse_roi(text) for text in args.roi]
    out = output_path(painting, args.out, args.format)
    mask_path = out.with_name(out.stem + "_mask.png")
    record_path = out.with_name(out.stem + "_record.json")
    check_outputs([out, mask_path, record_path], [painting])
    scan = read_scan(painting)
    if not rectangles:
        if not _has_display():
            raise UserError("no display to draw rectangles on: pass them with --roi x,y,w,h")
        rectangles = draw_rectangles(to_float(scan.colour))
        if not rectangles:
            raise UserError("no rectangle was drawn: nothing to restore")
    mask = whitish_mask(scan.colour, rectangles, args.threshold)
    fill(scan.colour, mask, args.method, radius=args.radius)
    record = {"input": input_record(painting, scan),
              "outputs": {"restored": str(out.resolve()), "mask": str(mask_path.resolve())},
              "mask": {"source": "rectangles", "rectangles": rectangles,
                       "threshold": args.threshold},
              "masked_fraction": float(mask.mean()), "method": args.method,
              "settings": {"radius": args.radius},
              "seconds": round(time.perf_counter() - start, 3),
              "tool": tool_record()}
    fmt = "png" if out.suffix.lower() == ".png" else "tiff"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(out, lambda p: write_scan(p, scan, fmt))
        write_atomically(mask_path, lambda p: write_scan(p, Scan(mask[..., None] * np.uint8(255))))
        write_text(record_path, record_json(record))
    except OSError as error:
        raise UserError(f"cannot write {error.filename or out} ({error.strerror or error})")
    print(f"{len(rectangles)} rectangle(s), {int(mask.sum())} whitish pixels filled "
          f"({args.method}, radius {args.radius}) -> {out}, mask {mask_path}")


if __name__ == "__main__":
    cli.run(main, parse_args)
