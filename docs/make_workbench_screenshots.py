"""Make the workbench's screenshots in docs/, one per state: app.py in headless Chromium, in a
1366 x 768 window (a laptop's screen), on the first run's painting (samples/first_run.py's make_painting: a
public-domain Dutch painting from samples/ with flaked paint).

  workbench_mask.jpg     the detected losses in magenta, and a brush stroke across the largest
                         true loss the detector missed, the brush's outline at its end
  workbench_zoom.jpg     zoomed to 477% on the largest loss: the painting's own pixels, the mask
                         at that scale (at 35% opacity) and the brush's outline
  workbench_compare.jpg  restored with auto, the mask hidden (M): before and after divided by
                         the slider's line
  workbench_saved.jpg    zoomed on the restoration, saved: the four files' links

  python docs/make_workbench_screenshots.py      # needs Debian's chromium
"""
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from samples import first_run  # noqa: E402
from tests.helpers import launch  # noqa: E402

DOCS = ROOT / "docs"
WINDOW = {"width": 1366, "height": 768}
NAME = "iudea_damaged.png"
# the overlay's marked pixels (the view is the painting's own size here: 768 x 525)
OVERLAY = """() => { const c = document.getElementById('overlay');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const a = []; for (let i = 3; i < d.length; i += 4) a.push(d[i] > 0 ? 1 : 0);
    return [c.width, c.height, a]; }"""


def shot(page, name):
    page.wait_for_timeout(300)  # the last frame drawn
    page.screenshot(path=str(DOCS / name), type="jpeg", quality=85)


def zoom_at(page, x, y, percent):
    """Wheel notches at (x, y) of the screen until the zoom reaches percent, each waited for."""
    page.mouse.move(x, y)
    while float(page.inner_text("#zoom-value").rstrip("%")) < percent:
        count = page.evaluate("window.workbench.zoomMs.length")
        page.mouse.wheel(0, -100)
        page.wait_for_function(f"window.workbench.zoomMs.length > {count}")


def slide(page, slider, value):
    """A range input moved as a user drags it (page.fill would leave it focused, outlined)."""
    page.evaluate(f"""() => {{ const s = document.getElementById('{slider}');
        s.value = '{value}'; s.dispatchEvent(new Event('input')); }}""")


def drag(page, points):
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point)
    page.mouse.up()


def regions(mask):
    """(area, centre x, centre y, left, top, width, height) of each region of a bool mask,
    the largest first."""
    _, _, stats, centres = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    found = [(s[cv2.CC_STAT_AREA], *c, *s[:4]) for s, c in zip(stats[1:], centres[1:])]
    return sorted(found, reverse=True)


def make(page):
    page.select_option("#folder-list", NAME)
    page.wait_for_function("window.workbench.openMs !== null", timeout=300000)
    box = page.locator("#canvas-box").bounding_box()
    width, height, alpha = page.evaluate(OVERLAY)
    shown = np.asarray(alpha, bool).reshape(height, width)

    # a brush stroke across the largest true loss (samples/README.md) the detector missed
    truth = cv2.imread(str(first_run.TRUTH), cv2.IMREAD_GRAYSCALE) > 127
    _, cx, cy, _, _, w, _ = regions(truth & ~shown)[0]
    drag(page, [(box["x"] + cx + t * w, box["y"] + cy) for t in np.linspace(-1, 1, 12)])
    shot(page, "workbench_mask.jpg")

    # zoomed on the largest true loss (flakes lost over the town), the brush's outline beside
    _, cx, cy, *_ = regions(truth)[0]
    zoom_at(page, box["x"] + cx, box["y"] + cy, 450)
    slide(page, "opacity", 35)  # the loss's own pixels through the mask
    page.mouse.move(box["x"] + cx - 150, box["y"] + cy - 60)
    shot(page, "workbench_zoom.jpg")

    page.click("#zoom-fit")
    page.click("#restore")
    page.wait_for_function("window.workbench.restoreMs !== null", timeout=300000)
    page.keyboard.press("m")  # the mask hidden: the restoration itself
    slide(page, "split", 45)
    page.mouse.move(5, 5)
    shot(page, "workbench_compare.jpg")

    zoom_at(page, box["x"] + cx, box["y"] + cy, 180)
    slide(page, "split", 50)
    page.click("#save")
    page.wait_for_selector("#download-restored", timeout=60000)
    page.mouse.move(5, 5)
    shot(page, "workbench_saved.jpg")


def main():
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory(prefix="workbench-shots-") as tmp:
        tmp = Path(tmp)
        first_run.make_painting(tmp / "demo" / NAME)  # the folders of ./run.sh app
        server, url = launch(tmp / "demo", tmp / "demo" / "restored")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=[
                    "--no-sandbox", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run"])
                page = browser.new_page(viewport=WINDOW)
                page.goto(url)
                make(page)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("wrote docs/workbench_{mask,zoom,compare,saved}.jpg")


if __name__ == "__main__":
    main()
