"""Make the workbench's screenshots in docs/, one per state: app.py in headless Chromium on
scikit-image's coffee photograph with synthetic paint loss (the shared paintings are not ours to
redistribute).

  workbench_mask.jpg     the detected losses in magenta, with a brush stroke added
  workbench_zoom.jpg     zoomed to 400% on a loss: the painting's own pixels, the mask at that
                         scale and the brush's outline
  workbench_compare.jpg  restored with auto, before and after divided by the slider's line
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
from skimage.data import coffee  # noqa: E402

from utils.images import save_image  # noqa: E402
from training.paint_loss import PaintLoss  # noqa: E402
from tests.helpers import launch  # noqa: E402

DOCS = ROOT / "docs"


def shot(page, name, full_page=False):
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # the last frame drawn
    page.screenshot(path=str(DOCS / name), type="jpeg", quality=85, full_page=full_page)


def zoom_at(page, x, y, percent):
    """Wheel notches at (x, y) of the screen until the zoom reaches percent, each waited for."""
    page.mouse.move(x, y)
    while float(page.inner_text("#zoom-value").rstrip("%")) < percent:
        count = page.evaluate("window.workbench.zoomMs.length")
        page.mouse.wheel(0, -100)
        page.wait_for_function(f"window.workbench.zoomMs.length > {count}")


with tempfile.TemporaryDirectory(prefix="workbench-shots-") as tmp:
    tmp = Path(tmp)
    image = coffee().astype(np.float32) / 255.0
    damaged, _ = PaintLoss(clean=0.0, events=(3, 3))(image, np.random.default_rng(11))
    save_image(tmp / "in" / "coffee.png", damaged)
    server, url = launch(tmp / "in", tmp / "out")
    from playwright.sync_api import sync_playwright
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1000, "height": 720})
            page.goto(url)
            page.select_option("#folder-list", "coffee.png")
            page.wait_for_function("window.workbench.openMs !== null")
            box = page.locator("#canvas-box").bounding_box()
            page.mouse.move(box["x"] + 430, box["y"] + 80)
            page.mouse.down()
            for step in range(20):
                page.mouse.move(box["x"] + 430 + 4 * step, box["y"] + 80 + 2 * step)
            page.mouse.up()
            shot(page, "workbench_mask.jpg")

            # zoomed on the largest loss the detector found, the brush's outline beside it
            width, height, alpha = page.evaluate("""() => {
                const c = document.getElementById('overlay');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                const a = []; for (let i = 3; i < d.length; i += 4) a.push(d[i] > 0 ? 1 : 0);
                return [c.width, c.height, a]; }""")
            alpha = np.asarray(alpha, np.uint8).reshape(height, width)
            _, _, stats, centres = cv2.connectedComponentsWithStats(alpha)
            cx, cy = centres[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
            zoom_at(page, box["x"] + cx, box["y"] + cy, 400)
            page.mouse.move(box["x"] + cx + 90, box["y"] + cy + 60)
            shot(page, "workbench_zoom.jpg")

            page.click("#zoom-fit")
            page.click("#restore")
            page.wait_for_function("window.workbench.restoreMs !== null", timeout=120000)
            page.fill("#split", "45")
            page.dispatch_event("#split", "input")
            page.mouse.move(5, 5)
            shot(page, "workbench_compare.jpg")

            box = page.locator("#canvas-box").bounding_box()
            zoom_at(page, box["x"] + cx, box["y"] + cy, 200)
            page.fill("#split", "50")
            page.dispatch_event("#split", "input")
            page.click("#save")
            page.wait_for_selector("#download-restored", timeout=60000)
            page.mouse.move(5, 5)
            shot(page, "workbench_saved.jpg", full_page=True)  # the links are below
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
print("wrote docs/workbench_{mask,zoom,compare,saved}.jpg")
