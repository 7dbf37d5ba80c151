"""Make docs/workbench_mask.jpg and docs/workbench_compare.jpg: the workbench (app.py) in
headless Chromium on scikit-image's coffee photograph with synthetic paint loss (the shared
paintings are not ours to redistribute): the detected mask with a brush stroke added, then the
restoration compared with the original by the slider.

  python docs/make_workbench_screenshots.py      # needs Debian's chromium
"""
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from skimage.data import coffee  # noqa: E402

from utils.images import save_image  # noqa: E402
from training.paint_loss import PaintLoss  # noqa: E402
from tests.helpers import launch  # noqa: E402

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
            page.screenshot(path=str(ROOT / "docs" / "workbench_mask.jpg"), type="jpeg",
                            quality=85)
            page.click("#restore")
            page.wait_for_function("window.workbench.restoreMs !== null", timeout=120000)
            page.fill("#split", "45")
            page.dispatch_event("#split", "input")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ROOT / "docs" / "workbench_compare.jpg"), type="jpeg",
                            quality=85)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
print("wrote docs/workbench_mask.jpg and docs/workbench_compare.jpg")
