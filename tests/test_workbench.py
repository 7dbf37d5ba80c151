"""The workbench (app.py): the page driven in headless Chromium end to end (open a painting with
known damage, the overlay, a brush stroke, restore, download), and the server's refusals (paths
outside the folder, oversized and broken uploads, outputs over an input)."""
import hashlib
import io
import json
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import LOSS_RGB, textured_painting, with_losses
from detection.detect import Detector, detection_scores
from detection.maps import innermost
from scans.scan import read_scan

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RED = (slice(124, 136), slice(45, 65))  # a red patch under the test's brush stroke


def _painting(folder, name="test.png"):
    """A generated painting (200 x 300) with pale losses and a red patch that is not a loss;
    (path, 8-bit pixels)."""
    rng = np.random.default_rng(0)
    damaged, _ = with_losses(rng, textured_painting(rng), count=5)
    pixels = np.round(damaged * 255).astype(np.uint8)
    pixels[RED] = (220, 20, 20)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(folder / name)
    return folder / name, pixels


def _brush():
    """A brush stroke over part of a painting, as the page sends it: a restore has a loss to
    fill whatever the detector found."""
    stroke = [{"tool": "brush", "width": 6, "points": [[40, 40], [90, 40]]}]
    return io.BytesIO(json.dumps(stroke).encode()), "strokes.json"


def _client(workbench):
    from helpers import workbench_client
    return workbench_client(workbench)


def test_the_server_refuses_other_sites_hosts_and_requests_without_its_token(tmp_path):
    """Jupyter's model: the token from the printed address (then a cookie), the Host limited to
    the names it listens on, the Origin of every request that changes something checked; each
    refused, and nothing written."""
    pytest.importorskip("flask")
    from workbench.server import Workbench, create_app
    folder = tmp_path / "paintings"
    _painting(folder)
    out = tmp_path / "out"
    workbench = Workbench(folder, out, detector=Detector("white"))
    app = create_app(workbench)
    bare = app.test_client()
    assert bare.get("/api/paintings").status_code == 403  # no token
    assert bare.post("/api/open", json={"name": "test.png"}).status_code == 403
    assert bare.get("/?token=wrong").status_code == 403
    # the printed address sets the cookie and drops the token from the address bar
    entered = bare.get(f"/?token={workbench.token}")
    assert entered.status_code == 302 and "token" not in entered.headers["Location"]
    assert "HttpOnly" in entered.headers["Set-Cookie"]
    assert "SameSite=Strict" in entered.headers["Set-Cookie"]
    page = {"HTTP_ORIGIN": "http://localhost"}
    assert bare.get("/api/paintings").status_code == 200
    # a foreign Host (DNS rebinding), even with the token
    assert bare.get("/api/paintings", headers={"Host": "attacker.example:8765"}).status_code == 403
    # a foreign Origin or Referer, or none, on anything that changes state
    for headers in ({"Origin": "http://attacker.example:8765"},
                    {"Referer": "http://attacker.example/page"}, {}):
        answer = bare.post("/api/open", json={"name": "test.png"}, headers=headers,
                           environ_base={})
        assert answer.status_code == 403, headers
    opened = bare.post("/api/open", json={"name": "test.png"}, environ_base=page)
    assert opened.status_code == 200
    painting = opened.json["id"]
    bare.post(f"/api/{painting}/restore", data={"method": "ns", "strokes": _brush()},
              environ_base=page)
    while bare.get(f"/api/{painting}/status").json["state"] == "running":
        time.sleep(0.05)
    assert bare.post(f"/api/{painting}/save", json={"format": "png"},
                     headers={"Origin": "http://evil.example"}).status_code == 403
    assert not out.exists() or not any(out.iterdir())  # nothing written
    assert bare.get("/favicon.ico").status_code == 204


def test_a_huge_upload_is_refused_before_it_is_decoded(tmp_path):
    pytest.importorskip("flask")
    from workbench.server import Workbench
    workbench = Workbench(None, tmp_path / "out", detector=Detector("white"))
    client = _client(workbench)
    # a PNG header that claims 20000 x 20000 pixels (and no pixel data): refused on its header
    import struct
    import zlib
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
           + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
    answer = client.post("/api/open", data={"file": (io.BytesIO(png), "huge.png")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and "20000 x 20000" in answer.json["error"]


def _png_bytes(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _browse(playwright, url, size=(1200, 800)):
    """Headless Chromium on the page at url in a window of size: (browser, page, the console's
    errors and warnings as they come)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
    page = browser.new_page(accept_downloads=True, viewport=dict(zip(("width", "height"), size)))
    console = []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning")
            else None)
    page.goto(url)
    return browser, page, console


@pytest.fixture
def server(tmp_path):
    """app.py on a free port with a folder of two paintings, the second (view.png) without a
    loss; yields (url, the first painting, its pixels, out). Stopped as a service manager stops
    it (SIGTERM, which app.py takes as Ctrl-C), it leaves with status 0 and takes its uploads
    folder with it."""
    import os

    from helpers import launch
    painting, pixels = _painting(tmp_path / "paintings")
    rng = np.random.default_rng(1)
    Image.fromarray(np.round(textured_painting(rng) * 255).astype(np.uint8)).save(
        tmp_path / "paintings" / "view.png")
    out = tmp_path / "out"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process, url = launch(painting.parent, out, env={**os.environ, "TMPDIR": str(temporary)})
    assert list(temporary.glob("workbench-uploads-*"))
    yield url, painting, pixels, out
    process.terminate()
    assert process.wait(timeout=30) == 0
    assert not list(temporary.glob("workbench-uploads-*"))


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; "
                                               ".ci/run installs it)")
@pytest.mark.slow
def test_the_page_opens_corrects_restores_and_saves_in_a_real_browser(server, tmp_path):
    """The whole page: the overlay, the slider and the info box following it, a stroke, undo,
    a click and learning; a reload, after which the edits are back; a restore, its 1:1 crops,
    another method; a stroke after it (out of date, then restored on top by Save and saved
    with it), Undo through the results; the original held on C; a painting with nothing
    detected (what to try), a mask over the warn share; back to the first: its edits again."""
    playwright = pytest.importorskip("playwright.sync_api")
    url, painting, pixels, out = server
    expected = Detector()(pixels)  # the detection the overlay must show (the view is 1:1 here)
    assert not expected[RED].any()  # the red patch is paint, not a detected loss
    # the overlay's marked pixels as a string of 0s and 1s (a string crosses quickly)
    marked = ("() => { const d = document.getElementById('overlay').getContext('2d')"
              ".getImageData(0, 0, 300, 200).data; const m = new Uint8Array(d.length / 4);"
              " for (let i = 3; i < d.length; i += 4) m[i >> 2] = d[i] > 0 ? 49 : 48;"
              " return new TextDecoder().decode(m); }")

    def overlay():
        return (np.frombuffer(page.evaluate(marked).encode(), np.uint8) == 49).reshape(
            pixels.shape[:2])

    def open_painting(name):
        page.evaluate("window.workbench.openMs = null")
        page.select_option("#folder-list", name)
        page.wait_for_function("window.workbench.openMs !== null", timeout=60000)

    def restored_file():
        with page.expect_download() as download:
            page.click("#download-restored")
        return read_scan(download.value.path()).colour

    with playwright.sync_playwright() as p:
        browser, page, console = _browse(p, url, (1366, 768))  # a laptop's screen
        dialogs = []  # a mask over the warn share is confirmed before a fill: yes
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        open_painting("test.png")
        assert np.array_equal(overlay(), expected)
        assert f"{100 * expected.mean():.2f}%" in page.inner_text("#info")
        assert f"mask: {100 * expected.mean():.2f}% of the painting" in page.inner_text(
            "#mask-info")

        def slide(value):  # the threshold slider, moved as a user drags it
            page.evaluate(f"""() => {{ const s = document.getElementById('threshold');
                s.value = '{value}'; s.dispatchEvent(new Event('input')); }}""")
            return page.evaluate("""() => {
                const c = document.getElementById('overlay');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
                return n; }""")
        low = slide(0.05)
        assert low > slide(0.99)  # redrawn live, without the server
        slide(0.05)  # the info box follows the slider: no stale share or threshold
        assert f"{100 * low / expected.size:.2f}% of the painting" in page.inner_text("#info")
        assert "threshold 0.05" in page.inner_text("#info")
        slide(0.9)  # kept with the edits below

        # a brush stroke (size 16) across the red patch
        box = page.locator("#canvas-box").bounding_box()
        page.mouse.move(box["x"] + 35, box["y"] + 130)
        page.mouse.down()
        for x in range(40, 80, 5):
            page.mouse.move(box["x"] + x, box["y"] + 130)
        page.mouse.up()
        shown = page.evaluate("""() => document.getElementById('overlay').getContext('2d')
                                     .getImageData(55, 130, 1, 1).data[3]""")
        assert shown > 0  # the stroke shows on the overlay
        assert page.evaluate("window.workbench.strokeMs.length") > 0
        mark = ("() => document.getElementById('overlay').getContext('2d')"
                ".getImageData(55, 130, 1, 1).data[3]")
        page.click("#undo")
        assert page.evaluate(mark) == 0  # undone
        page.click("#redo")
        assert page.evaluate(mark) > 0  # and redone
        page.keyboard.press("Control+z")
        page.keyboard.press("Control+Shift+z")
        assert page.evaluate(mark) > 0
        # the mask's opacity: the paint under it shows through
        page.evaluate("""() => { const s = document.getElementById('opacity');
            s.value = '25'; s.dispatchEvent(new Event('input')); }""")
        assert page.evaluate("getComputedStyle(document.getElementById('mask-layer')).opacity") \
            == "0.25"

        # a click on the largest loss, then "learn every loss like my marks"
        rng = np.random.default_rng(0)  # the losses _painting made
        _, truth = with_losses(rng, textured_painting(rng), count=5)
        count, labels = cv2.connectedComponents(truth.view(np.uint8), connectivity=8)
        x, y = innermost(labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1)
        before = overlay().sum()
        page.check("input[name=tool][value=select]")
        box = page.locator("#canvas-box").bounding_box()
        page.mouse.click(box["x"] + x + 0.5, box["y"] + y + 0.5)
        page.wait_for_function("document.getElementById('message').innerText"
                               ".includes('the loss under the click')", timeout=30000)
        page.click("#learn")
        page.wait_for_function("window.workbench.learnMs !== null", timeout=60000)
        assert overlay().sum() > before
        page.check("input[name=tool][value=brush]")

        # a reload loses nothing: the threshold, the stroke, the click and the learning are back
        edited, info = overlay(), page.inner_text("#mask-info")
        page.reload()  # the tab's painting opens again by itself, its edits with it
        page.wait_for_function("window.workbench.openMs !== null", timeout=60000)
        assert page.input_value("#folder-list") == "test.png"
        assert "your earlier edits are back" in page.inner_text("#message")
        assert page.input_value("#threshold") == "0.9"
        assert np.array_equal(overlay(), edited)
        assert page.inner_text("#mask-info").split("; undo")[0] == info.split("; undo")[0]

        page.select_option("#method", "telea")
        page.click("#restore")
        page.wait_for_function("window.workbench.restoreMs !== null", timeout=120000)
        assert page.is_visible("#overlay")  # the mask stays shown, and editable
        for tool in ("#restore", "#save", "#split"):  # all in the window, nothing scrolled
            where = page.locator(tool).bounding_box()
            assert where["y"] + where["height"] <= 768 and page.evaluate("window.scrollY") == 0
        page.click("#save")
        page.wait_for_selector("#download-restored", timeout=60000)
        restored = restored_file()

        # the 1:1 view: a crop of the restored painting at its own pixels, in view
        page.check("#real-pixels")
        box = page.locator("#canvas-box").bounding_box()
        page.mouse.click(box["x"] + 55, box["y"] + 130)
        page.wait_for_function("document.getElementById('zoom-after').naturalWidth > 0")
        size = int(page.evaluate("document.getElementById('zoom-after').src")
                   .split("size=")[1].split("&")[0])
        assert page.evaluate("document.getElementById('zoom-after').naturalWidth") == min(
            size, 300) >= 64
        panel = page.locator("#zoom").bounding_box()
        assert panel["y"] + panel["height"] <= 768  # in the window, not below it
        assert not page.locator("#divider").is_hidden()  # the compare slider's line
        page.uncheck("#real-pixels")

        # a second restore with another method: its result everywhere, the first one's links gone
        page.select_option("#method", "ns")
        page.evaluate("window.workbench.restoreMs = null")
        page.click("#restore")
        page.wait_for_function("window.workbench.restoreMs !== null", timeout=120000)
        assert page.locator("#download-restored").count() == 0
        page.click("#save")
        page.wait_for_selector("#download-restored", timeout=60000)
        assert "the result of ns" in page.inner_text("#saved")
        page.click("#save")  # saved again: the same set, replaced
        page.wait_for_selector("#download-restored", timeout=60000)
        first = restored = restored_file()  # the second result's file
        first_mask = read_scan(out / "test_mask.png").colour[..., 0] > 0
        first_result = page.evaluate("window.workbench.result")

        # a stroke after the restore, on paint no mask marks: the result is out of date, and
        # Save restores it first, on top of the result, and saves the mask and fill with it
        free = ~cv2.dilate(overlay().astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
        row = next(r for r in range(10, 190) if free[r, 200:260].all())
        box = page.locator("#canvas-box").bounding_box()
        page.mouse.move(box["x"] + 205, box["y"] + row)
        page.mouse.down()
        for x in range(210, 256, 5):
            page.mouse.move(box["x"] + x, box["y"] + row)
        page.mouse.up()
        assert "out of date" in page.inner_text("#result-state")
        assert page.inner_text("#save") == "Restore and save"
        page.evaluate("window.workbench.restoreMs = null")
        page.click("#save")
        page.wait_for_selector("#download-restored", timeout=60000)
        assert "the result of ns, then on top ns" in page.inner_text("#saved")
        assert "of this mask" in page.inner_text("#result-state")
        restored = restored_file()
        mask = read_scan(out / "test_mask.png").colour[..., 0] > 0
        stroke = np.zeros_like(mask)
        stroke[row - 2:row + 3, 212:252] = True
        assert mask[stroke].all() and (mask & first_mask).sum() == first_mask.sum()
        assert (np.abs(restored[stroke].astype(int) - pixels[stroke]).sum(axis=1) > 0).any()
        assert np.array_equal(restored[first_mask], first[first_mask])  # on top: kept
        assert np.array_equal(restored[~mask], pixels[~mask])
        steps = json.loads((out / "test_record.json").read_text())["mask"]["steps"]
        assert [s["method"] for s in steps] == ["ns", "ns"]

        # Undo steps back through the results: the one before (out of date with the stroke),
        # then the stroke undone; Redo forward again
        after = "document.getElementById('after').src"
        page.click("#undo")
        page.wait_for_function(f"{after}.includes('result={first_result}')")
        assert "out of date" in page.inner_text("#result-state")
        page.click("#undo")
        assert "of this mask" in page.inner_text("#result-state")
        page.click("#redo")
        page.click("#redo")
        page.wait_for_function(f"!{after}.includes('result={first_result}')")
        assert "of this mask" in page.inner_text("#result-state")

        # C held: the painting as it was (no result, no mask), back on release
        visibility = ("['after-layer', 'mask-layer'].map((id) => "
                      "getComputedStyle(document.getElementById(id)).visibility)")
        page.keyboard.down("c")
        assert page.evaluate(visibility) == ["hidden", "hidden"]
        page.keyboard.up("c")
        assert page.evaluate(visibility) == ["visible", "visible"]
        edited = overlay()

        # a file that is not an image: a message on the page, and the server goes on
        page.set_input_files("#upload", files=[{"name": "notes.png", "mimeType": "image/png",
                                                "buffer": b"not an image"}])
        page.wait_for_selector("#message.error", timeout=30000)
        assert "could not be opened" in page.inner_text("#message")
        assert page.evaluate("fetch('/api/paintings').then(r => r.status)") == 200
        # the next painting of the folder, clean: nothing detected, and the page says what to try
        page.evaluate("window.workbench.openMs = null")
        page.click("#next")
        page.wait_for_function("document.getElementById('info').innerText.includes('view.png')",
                               timeout=60000)
        assert page.input_value("#folder-list") == "view.png"
        page.wait_for_function("window.workbench.openMs !== null")
        said = page.inner_text("#message")
        undamaged = page.evaluate("window.workbench.undamaged")
        assert "no loss was detected" in said
        # the slider is offered only where it can find something
        assert ("judged this painting undamaged" in said) == undamaged
        assert ("lower the detector's threshold" in said) == (not undamaged)
        assert "shown in magenta" not in said and "Nothing is marked" in page.inner_text(
            "#advice")
        # the user's own mask file in place of the detection; a third of the painting: over
        # the warn share, said at once, and the page asks before the fill
        wide = np.zeros(pixels.shape[:2], np.uint8)
        wide[:, :100] = 255
        dialogs.clear()
        page.set_input_files("#mask-file", files=[{"name": "wide.png", "mimeType": "image/png",
                                                   "buffer": _png_bytes(wide)}])
        page.wait_for_function("document.getElementById('info').innerText.includes('wide.png')",
                               timeout=30000)
        assert "over the 10% of --warn-share" in page.inner_text("#mask-info.warning")
        page.evaluate("window.workbench.restoreMs = null")
        page.click("#restore")
        page.wait_for_function("window.workbench.restoreMs !== null", timeout=120000)
        assert len(dialogs) == 1 and "33.3%" in dialogs[0]
        # and back: the first painting's edits, the stroke after the restore too
        page.evaluate("window.workbench.openMs = null")
        page.click("#previous")
        page.wait_for_function("document.getElementById('info').innerText.includes('test.png')",
                               timeout=60000)
        page.wait_for_function("window.workbench.openMs !== null")
        assert "your earlier edits are back" in page.inner_text("#message")
        assert np.array_equal(overlay(), edited)
        assert not [c for c in console if "could not be opened" not in c
                    and "400" not in c and "409" not in c], console  # but the refusals
        browser.close()

    assert np.array_equal(read_scan(out / "test_restored.png").colour, restored)
    assert restored.dtype == np.uint8 and restored.shape == pixels.shape
    assert np.array_equal(restored[~mask], pixels[~mask])  # every known pixel bit-identical
    assert mask[RED].all() and (mask & expected).sum() == expected.sum()  # stroke and detection
    red = restored[RED].astype(int)
    assert (red[..., 0] - red[..., 1]).mean() < 60  # the stroke's pixels were filled
    assert (out / "test_record.json").is_file() and (out / "test_figure.jpg").is_file()


def test_bad_uploads_and_paths_are_refused_with_a_message(tmp_path):
    pytest.importorskip("flask")
    from workbench.server import Workbench
    folder = tmp_path / "paintings"
    _, pixels = _painting(folder)
    (tmp_path / "secret.png").write_bytes(_png_bytes(pixels))
    (folder / "link.png").symlink_to(tmp_path / "secret.png")
    out = tmp_path / "out"
    workbench = Workbench(folder, out, max_upload_mb=0.5, detector=Detector("white"))
    client = _client(workbench)

    for name in ("../secret.png", str(tmp_path / "secret.png"), "link.png", "missing.png"):
        response = client.post("/api/open", json={"name": name})
        assert response.status_code == 400, name
        assert "not one of the paintings" in response.json["error"] or \
            "outside the folder" in response.json["error"]

    big = {"file": (io.BytesIO(b"x" * 600_000), "big.png")}
    response = client.post("/api/open", data=big, content_type="multipart/form-data")
    assert response.status_code == 413 and "over the limit of 0.5 MB" in response.json["error"]

    for data, what in ((b"not an image", "notes.png"), (_png_bytes(pixels)[:400], "cut.png")):
        response = client.post("/api/open", data={"file": (io.BytesIO(data), what)},
                               content_type="multipart/form-data")
        assert response.status_code == 400 and "could not be opened" in response.json["error"]

    # a file name that climbs out of every folder: opened, restored and saved inside OUT only
    response = client.post("/api/open", data={"file": (io.BytesIO(_png_bytes(pixels)),
                                                       "../../evil.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    painting = response.json["id"]
    assert client.post(f"/api/{painting}/restore", data={
        "method": "telea", "strokes": _brush()}).status_code == 200
    while client.get(f"/api/{painting}/status").json["state"] == "running":
        time.sleep(0.1)
    assert client.get(f"/api/{painting}/status").json["state"] == "done"
    saved = client.post(f"/api/{painting}/save", json={"format": "png"}).json["saved"]
    assert saved["restored"] == "evil_restored.png"
    assert sorted(p.name for p in out.iterdir()) == sorted(saved.values())
    assert not (tmp_path / "evil_restored.png").exists()
    assert client.get("/api/nonexistent/status").status_code == 400  # no crash either


def _bench_with_losses(tmp_path, seed, detector):
    """A Workbench over a folder holding p.png, a painting with five losses: (the workbench, its
    test client, the true losses)."""
    pytest.importorskip("flask")
    from workbench.server import Workbench
    folder = tmp_path / "paintings"
    folder.mkdir()
    rng = np.random.default_rng(seed)
    damaged, truth = with_losses(rng, textured_painting(rng), count=5)
    Image.fromarray(np.round(damaged * 255).astype(np.uint8)).save(folder / "p.png")
    workbench = Workbench(folder, tmp_path / "out", detector=detector)
    return workbench, _client(workbench), truth


def test_a_restore_at_the_sliders_threshold_records_what_auto_made_at_it(tmp_path):
    """auto's specks follow the slider: a restore at the page's threshold records their
    contrast at that threshold, with the threshold itself."""
    _, client, _ = _bench_with_losses(tmp_path, 5, Detector())
    opened = client.post("/api/open", json={"name": "p.png"}).json
    assert client.post(f"/api/{opened['id']}/restore", data={
        "method": "telea", "threshold": "0.5", "confirmed": "1"}).status_code == 200
    while client.get(f"/api/{opened['id']}/status").json["state"] == "running":
        time.sleep(0.05)
    client.post(f"/api/{opened['id']}/save", json={"format": "png"})
    detector = json.loads((tmp_path / "out" / "p_record.json").read_text())["mask"]["detector"]
    assert detector["threshold"] == 0.5
    assert detector["specks"]["contrast"] == pytest.approx(35 * 0.5 / 0.95)


def test_a_click_selects_its_loss_similar_the_losses_like_it_shift_keeps_paint_out(tmp_path):
    """...and a selection over the share the user set (app.py --warn-share) is flagged as it is
    made, not only when it is filled."""
    workbench, client, truth = _bench_with_losses(tmp_path, 3, Detector("white"))
    painting = client.post("/api/open", json={"name": "p.png"}).json["id"]
    _, labels = cv2.connectedComponents(truth.astype(np.uint8), connectivity=8)
    x, y = innermost(truth > 0)
    clicked = labels == labels[y, x]

    def select(**point):
        found = client.post(f"/api/{painting}/select", json=point).json
        view = client.get(f"/api/{painting}/selection/{found['selection']}.png")
        return found, np.asarray(Image.open(io.BytesIO(view.data))) > 0

    found, selected = select(x=int(x), y=int(y))
    assert selected.shape == truth.shape and selected[clicked].mean() > 0.8
    assert not (selected & truth & ~clicked).any()  # the other losses are not taken
    assert found["fraction"] < 2 * clicked.mean()
    found, selected = select(x=int(x), y=int(y), similar=True)
    assert selected[truth].mean() > 0.5  # every loss like it
    assert "warning" not in found  # under the 10% set
    workbench.warn_share = found["fraction"] / 2
    flagged, _ = select(x=int(x), y=int(y), similar=True)
    assert f"this selects {found['fraction']:.1%} of the painting, over the" in flagged["warning"]
    out = client.post(f"/api/{painting}/select", json={"x": int(x), "y": int(y), "out": True})
    assert out.json["selection"] is None
    found, selected = select(x=int(x), y=int(y))
    assert not selected.any()  # the paint marked out is never selected


def test_a_painting_of_the_folder_is_saved_under_the_names_restore_py_writes(tmp_path):
    """restore.py names the four files by the painting's own stem, spaces and dots kept; the
    workbench saves a painting of its folder under the same names (one function,
    scans.saving.outputs_named), and an upload under a safe one."""
    pytest.importorskip("flask")
    from conftest import run_script
    from workbench.server import Workbench
    folder, name = tmp_path / "paintings", "San Sebastiano - St. Mark.png"
    _painting(folder, name)
    client = _client(Workbench(folder, tmp_path / "out", detector=Detector("white")))

    def saved(**opened):
        painting = client.post("/api/open", **opened).json["id"]
        client.post(f"/api/{painting}/restore", data={"method": "telea", "strokes": _brush()})
        while client.get(f"/api/{painting}/status").json["state"] == "running":
            time.sleep(0.05)
        return client.post(f"/api/{painting}/save", json={"format": "png"}).json["saved"]
    ours = saved(json={"name": name})
    done = run_script("restore.py", folder / name, "--mask", tmp_path / "out" / ours["mask"],
                      "--method", "telea", "-o", tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    assert sorted(ours.values()) == sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert ours["restored"] == "San Sebastiano - St. Mark_restored.png"
    upload = saved(data={"file": (io.BytesIO((folder / name).read_bytes()), name)},
                   content_type="multipart/form-data")
    assert upload["restored"] == "San_Sebastiano_-_St._Mark_restored.png"


def test_a_restore_on_top_fills_what_the_mask_added_and_gives_back_what_it_dropped(tmp_path):
    """Restore, correct, restore again on top: the pixels only the first mask marked are the
    painting's own again, those the first fill made are kept, the new ones are filled; each
    result stays held (for Undo), can be shown and saved; a result let go is said so."""
    pytest.importorskip("flask")
    from workbench.server import Workbench
    folder = tmp_path / "paintings"
    _, pixels = _painting(folder)
    workbench = Workbench(folder, tmp_path / "out", detector=Detector("white"))
    client = _client(workbench)
    painting = client.post("/api/open", json={"name": "test.png"}).json["id"]

    def restore(strokes, **sent):
        answer = client.post(f"/api/{painting}/restore", data={
            "method": "telea", "strokes": (io.BytesIO(json.dumps(strokes).encode()),
                                           "strokes.json"), **sent})
        assert answer.status_code == 200, answer.json
        while (job := client.get(f"/api/{painting}/status").json)["state"] == "running":
            time.sleep(0.05)
        return job
    kept = {"tool": "brush", "width": 6, "points": [[40, 40], [90, 40]]}
    dropped = {"tool": "brush", "width": 6, "points": [[40, 150], [90, 150]]}
    added = {"tool": "brush", "width": 6, "points": [[200, 100], [250, 100]]}
    first = restore([kept, dropped])
    second = restore([kept, added], on_top=first["result"])
    assert second["methods"] == ["telea", "telea"] and 0 < second["filled"] < second["fraction"]
    held = workbench.get(painting)
    one, two = (held.after(job["result"])[0] for job in (first, second))
    band = np.zeros(pixels.shape[:2], bool)
    band[37:44, 37:94] = True  # the kept stroke
    assert np.array_equal(two[band], one[band])  # its first fill kept
    assert np.array_equal(two[147:154, 37:94], pixels[147:154, 37:94])  # given back
    assert (two[97:104, 197:254] != pixels[97:104, 197:254]).any()  # the new stroke filled
    mask = held.result(second["result"])["mask"]
    assert np.array_equal(two[~mask], pixels[~mask])
    assert client.get(f"/api/{painting}/after.jpg?result={first['result']}").status_code == 200
    saved = client.post(f"/api/{painting}/save", json={"format": "png",
                                                         "result": first["result"]})
    assert saved.json["saved"]["restored"] == "test_restored.png"
    assert np.array_equal(read_scan(tmp_path / "out" / "test_restored.png").colour, one)
    refused = client.post(f"/api/{painting}/restore", data={"method": "telea",
                                                             "on_top": "gone"})
    assert refused.status_code == 400 and "no longer held" in refused.json["error"]


def test_saving_never_replaces_an_input(tmp_path):
    pytest.importorskip("flask")
    from workbench.server import Workbench
    folder = tmp_path / "paintings"
    _, pixels = _painting(folder)
    Image.fromarray(pixels).save(folder / "test_mask.png")  # the user's own mask, beside it
    before = (folder / "test_mask.png").read_bytes()
    client = _client(Workbench(folder, folder, detector=Detector("white")))
    painting = client.post("/api/open", json={"name": "test.png"}).json["id"]
    client.post(f"/api/{painting}/restore", data={"method": "ns", "strokes": _brush()})
    while client.get(f"/api/{painting}/status").json["state"] == "running":
        time.sleep(0.1)
    response = client.post(f"/api/{painting}/save", json={"format": "png"})
    # the user's test_mask.png is kept: the set takes the next free name
    assert response.status_code == 200, response.json
    assert response.json["saved"]["mask"] == "test-2_mask.png"
    assert (folder / "test_mask.png").read_bytes() == before
    assert not (folder / "test_restored.png").exists()
    # saving again replaces its own set, not another
    again = client.post(f"/api/{painting}/save", json={"format": "png"})
    assert again.json["saved"]["mask"] == "test-2_mask.png"


def test_saves_at_once_and_paintings_of_one_name_each_keep_their_own_set(tmp_path):
    """Two saves at the same moment, a painting saved after another of the same name in a
    subfolder, and uploads whose names reduce to the same safe name: every set is whole, and
    none replaces another painting's."""
    pytest.importorskip("flask")
    import threading
    from workbench.server import Workbench
    folder = tmp_path / "paintings"
    _painting(folder)
    (folder / "sub").mkdir()
    _painting(folder / "sub")
    out = tmp_path / "out"
    workbench = Workbench(folder, out, detector=Detector("white"))
    client = _client(workbench)

    def restored(name=None, upload=None):
        if upload is not None:
            opened = client.post("/api/open", data={"file": upload},
                                 content_type="multipart/form-data").json
        else:
            opened = client.post("/api/open", json={"name": name}).json
        painting = opened["id"]
        client.post(f"/api/{painting}/restore", data={"method": "ns", "strokes": _brush()})
        while client.get(f"/api/{painting}/status").json["state"] == "running":
            time.sleep(0.05)
        return painting
    first, second = restored("test.png"), restored("sub/test.png")
    answers = []
    threads = [threading.Thread(target=lambda p=p: answers.append(
        client.post(f"/api/{p}/save", json={"format": "png"}).json)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stems = sorted(a["saved"]["restored"] for a in answers)
    assert stems == ["test-2_restored.png", "test_restored.png"]
    png = (folder / "test.png").read_bytes()
    uploads = [restored(upload=(io.BytesIO(png), name)) for name in ("кот.png", "猫.png")]
    names = [client.post(f"/api/{p}/save", json={"format": "png"}).json["saved"]["restored"]
             for p in uploads]
    assert len(set(names)) == 2
    records = [json.loads(p.read_text()) for p in out.glob("*_record.json")]
    assert len(records) == 4 and all(sorted(r["outputs"]) == ["figure", "mask", "record",
                                                              "restored"] for r in records)
    for record in records:  # every set is whole: each file is the one its record names
        for kind, digest in record["output_sha256"].items():
            assert hashlib.sha256(Path(record["outputs"][kind]).read_bytes()).hexdigest() == \
                digest


def test_the_threshold_slider_redraws_from_one_probability_map_and_restores_with_it(tmp_path):
    """The learned detector's probability is computed once; the page thresholds it, and a
    restore takes the page's threshold: a lower one marks more, and the record says which."""
    workbench, client, _ = _bench_with_losses(tmp_path, 4, Detector("learned"))
    opened = client.post("/api/open", json={"name": "p.png"}).json
    assert opened["probability"] and opened["detection"]["threshold"] == Detector().threshold
    probability = np.asarray(Image.open(io.BytesIO(
        client.get(f"/api/{opened['id']}/probability.png").data)))
    assert probability.shape == (opened["view_height"], opened["view_width"])
    painting = workbench.get(opened["id"])
    default = painting.detected.mean()
    marked = {}
    for threshold in ("0.05", "0.99"):
        assert client.post(f"/api/{opened['id']}/restore", data={
            "method": "telea", "threshold": threshold, "confirmed": "1"}).status_code == 200
        while client.get(f"/api/{opened['id']}/status").json["state"] == "running":
            time.sleep(0.05)
        marked[threshold] = client.get(f"/api/{opened['id']}/status").json["fraction"]
    assert marked["0.05"] > default >= marked["0.99"]  # the threshold decides, not a new run
    client.post(f"/api/{opened['id']}/save", json={"format": "png"})
    record = json.loads((tmp_path / "out" / "p_record.json").read_text())
    assert record["mask"]["detector"]["threshold"] == 0.99
    assert "specks" not in record["mask"]["detector"]  # learned adds none (auto's follow it)
    bad = client.post(f"/api/{opened['id']}/restore", data={"method": "telea",
                                                             "threshold": "abc"})
    assert bad.status_code == 400 and "not a number" in bad.json["error"]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; "
                                               ".ci/run installs it)")
@pytest.mark.slow
def test_zoomed_the_page_shows_real_pixels_the_exact_mask_and_brushes_at_that_scale(tmp_path):
    """A painting larger than the view (2400 x 1600): the wheel zooms about the pointer up to
    1:1 and beyond, where the page shows the painting's own pixels and the server's exact mask
    of the part on screen; a 1-px brush stroke there is one pixel of the saved mask; the move
    tool pans; after a restore the restoration's own pixels are shown too."""
    playwright = pytest.importorskip("playwright.sync_api")
    from helpers import launch
    rng = np.random.default_rng(3)
    damaged, _ = with_losses(rng, textured_painting(rng, 1600, 2400), count=6, radius=(30, 60))
    pixels = np.round(damaged * 255).astype(np.uint8)
    (tmp_path / "in").mkdir()
    Image.fromarray(pixels).save(tmp_path / "in" / "big.png")
    # the network alone: the zoom is the point here, not auto's classifier (twice 2400 x 1600)
    detected = Detector("learned")(pixels).astype(bool)
    count, labels, stats, centres = cv2.connectedComponentsWithStats(detected.astype(np.uint8))
    assert count > 1, "the test needs a detected loss to zoom into"
    # the loss nearest the middle: zoomed about it, the painting is never held by its edges
    cx, cy = min(centres[1:], key=lambda c: abs(c[0] - 1200) + abs(c[1] - 800))
    out = tmp_path / "out"
    process, url = launch(tmp_path / "in", out, "--detect", "learned")

    def canvas_pixels(page, name):
        """(the region it shows in the painting's pixels, its RGBA pixels)."""
        import base64
        region, data = page.evaluate(f"""() => {{ const c = document.getElementById('{name}');
            return [c.dataset.region, c.toDataURL('image/png')]; }}""")
        rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(data.split(",")[1]))))
        return tuple(int(v) for v in region.split(",")), rgba

    def under(page, sx, sy):
        """The painting's pixel under a point of the screen."""
        box = page.locator("#canvas-box").bounding_box()
        return ((sx - box["x"]) * 2400 / box["width"], (sy - box["y"]) * 1600 / box["height"])

    def zoom_steps(page):
        return page.evaluate("window.workbench.zoomMs.length")

    try:
        with playwright.sync_playwright() as p:
            browser, page, console = _browse(p, url)
            # a folder of one painting opens it, no choosing needed (the first run's)
            page.wait_for_function("window.workbench.openMs !== null", timeout=120000)
            assert page.input_value("#folder-list") == "big.png"
            fit = float(page.inner_text("#zoom-value").rstrip("%"))
            assert fit < 50  # the whole painting in the window
            box = page.locator("#canvas-box").bounding_box()
            sx, sy = box["x"] + cx * box["width"] / 2400, box["y"] + cy * box["height"] / 1600
            page.mouse.move(sx, sy)
            page.keyboard.press("1")  # 1:1 about the pointer, not the painting's middle
            assert page.inner_text("#zoom-value") == "100%"
            px, py = under(page, sx, sy)
            assert abs(px - cx) < 1 and abs(py - cy) < 1
            while float(page.inner_text("#zoom-value").rstrip("%")) < 120:
                steps = zoom_steps(page)
                page.mouse.wheel(0, -100)
                page.wait_for_function(f"window.workbench.zoomMs.length > {steps}")
            px, py = under(page, sx, sy)
            assert abs(px - cx) < 60 and abs(py - cy) < 60  # the loss is still under the pointer
            steps = zoom_steps(page)
            page.mouse.wheel(0, -100)
            page.wait_for_function(f"window.workbench.zoomMs.length > {steps}")
            qx, qy = under(page, sx, sy)
            assert abs(px - qx) < 1 and abs(py - qy) < 1  # zoomed about the pointer
            page.wait_for_function("!document.getElementById('mask-detail').hidden")
            (x0, y0, x1, y1), before = canvas_pixels(page, "before-detail")
            assert (x1 - x0, y1 - y0) == before.shape[1::-1]  # one pixel of it for each
            assert np.array_equal(before[..., :3], pixels[y0:y1, x0:x1])  # the painting's own
            (m0, n0, m1, n1), mask = canvas_pixels(page, "mask-detail")
            assert (m0, n0, m1, n1) == (x0, y0, x1, y1)
            assert np.array_equal(mask[..., 3] > 0, detected[y0:y1, x0:x1])  # the exact mask
            assert detected[y0:y1, x0:x1].any()

            # a 1-px brush stroke, 40 of the painting's pixels long, on paint with no loss near
            page.evaluate("""() => { const s = document.getElementById('size');
                s.value = '0'; s.dispatchEvent(new Event('input')); }""")
            assert page.inner_text("#size-value") == "1 px"
            near = cv2.dilate(detected.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            rows = [y for y in range(y0 + 20, y1 - 20) if not near[y, x0 + 20:x0 + 70].any()]
            assert rows, "no paint without losses on screen"
            row = rows[len(rows) // 2]
            box = page.locator("#canvas-box").bounding_box()
            on = box["width"] / 2400  # screen pixels for each of the painting's

            def screen(x, y):
                return box["x"] + (x + 0.5) * on, box["y"] + (y + 0.5) * on
            page.mouse.move(*screen(x0 + 25, row))
            page.mouse.down()
            for x in range(x0 + 30, x0 + 66, 5):
                page.mouse.move(*screen(x, row))
            page.mouse.up()
            _, mask = canvas_pixels(page, "mask-detail")
            assert (mask[row - y0, 30:60, 3] > 0).all()  # shown at once, at this scale

            # panned by the move tool: the part on screen follows
            page.check("input[name=tool][value=move]")
            steps = zoom_steps(page)
            page.mouse.move(600, 400)
            page.mouse.down()
            page.mouse.move(500, 350, steps=4)
            page.mouse.up()
            # the view follows each step of the drag: wait for the last (a busy machine draws
            # the first steps' regions first), or the painting's edge
            page.wait_for_function(
                "() => { const r = document.getElementById('before-detail').dataset.region"
                f".split(',').map(Number); return Math.abs(r[0] - {x0 + 100 / on}) < 3"
                f" || r[0] + {x1 - x0} >= 2400; }}", timeout=30000)
            (a0, b0, _, _), _ = canvas_pixels(page, "before-detail")
            assert abs((a0 - x0) - 100 / on) < 3 or a0 + (x1 - x0) >= 2400

            page.select_option("#method", "telea")
            page.click("#restore")
            page.wait_for_function("window.workbench.restoreMs !== null", timeout=120000)
            page.wait_for_function("!document.getElementById('after-detail').hidden")
            page.click("#save")
            page.wait_for_selector("#download-restored", timeout=60000)
            (a0, b0, a1, b1), after = canvas_pixels(page, "after-detail")
            restored = read_scan(out / "big_restored.png").colour
            assert np.array_equal(after[..., :3], restored[b0:b1, a0:a1])  # the result's pixels

            page.click("#zoom-fit")
            page.wait_for_function("document.getElementById('before-detail').hidden")
            assert float(page.inner_text("#zoom-value").rstrip("%")) == fit
            # the 1:1 button: about where the user last marked (the stroke's end)
            page.click("#zoom-one")
            assert page.inner_text("#zoom-value") == "100%"
            view = page.locator("#viewport").bounding_box()
            px, py = under(page, view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
            assert abs(px - (x0 + 65.5)) < 1 and abs(py - (row + 0.5)) < 1
            assert not console, console
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    saved = read_scan(out / "big_mask.png").colour[..., 0] > 0
    stroke = saved[row - 4:row + 5, x0 + 30:x0 + 60]
    assert stroke[4].all() and not np.delete(stroke, 4, axis=0).any()  # one pixel wide
    assert np.array_equal(saved & ~near, saved & ~near & (np.arange(1600)[:, None] == row))


def test_strokes_replay_in_order_at_full_resolution_and_bad_ones_are_refused():
    """The page's strokes, in the painting's pixels: the latest over a pixel decides, a 1-px
    stroke is one pixel wide, a dab is a disc; every malformed stroke is one message."""
    from utils.errors import UserError
    from workbench.server import draw_strokes, read_strokes
    base = np.zeros((40, 60), bool)
    base[30:, :] = True  # a loss along the bottom
    strokes = read_strokes(json.dumps([
        {"tool": "brush", "width": 1, "points": [[5.5, 10.5], [40.5, 10.5]]},
        {"tool": "eraser", "width": 4, "points": [[20, 0], [20, 39]]},
        {"tool": "brush", "width": 4, "points": [[20, 3], [20, 5]]},
        {"tool": "brush", "width": 6, "points": [[50, 20]]}]))
    mask, added, removed = draw_strokes(base, strokes)
    assert mask[10, 5:41].sum() == 36 - 4 and not mask[9].any() and not mask[11, :45].any()
    assert not mask[10, 18:22].any() and not mask[30:, 18:22].any()  # erased, loss included
    assert mask[2:6, 19:21].all()  # brushed again after the eraser: the latest decides
    assert mask[18:22, 48:52].all() and not mask[20, 53] and not mask[16, 50]  # the dab
    assert added == int((mask & ~base).sum()) and removed == int((base & ~mask).sum()) > 0
    for bad in ["not json", "{}", '[{"tool": "spray", "width": 3, "points": [[1, 1]]}]',
                '[{"tool": "brush", "width": 0, "points": [[1, 1]]}]',
                '[{"tool": "brush", "width": true, "points": [[1, 1]]}]',
                '[{"tool": "brush", "width": 1e999, "points": [[1, 1]]}]',
                '[{"tool": "brush", "width": 3, "points": []}]',
                '[{"tool": "brush", "width": 3, "points": [[1, NaN]]}]',
                '[{"tool": "brush", "width": 3, "points": [[1, 2, 3]]}]',
                '[{"tool": "brush", "width": 3, "points": "here"}]',
                json.dumps([{"tool": "brush", "width": 3, "points": [[1, 1]] * 1_000_001}])]:
        with pytest.raises(UserError):
            read_strokes(bad)
    far = read_strokes('[{"tool": "brush", "width": 3, "points": [[-1e7, 5], [1e7, 5]]}]')
    assert draw_strokes(base, far)[0][4:7].all() and not draw_strokes(base, far)[0][:3].any()
    with pytest.raises(UserError):
        read_strokes('[{"tool": "brush", "width": 3, "points": [[-1e12, 5], [1e12, 5]]}]')


def test_the_zoomed_view_is_cut_from_a_pyramid_and_its_requests_are_checked(tmp_path):
    """/region: the painting's own pixels up to 1:1, a smaller level's below, the rectangle
    covered in X-Region; /mask-region: the mask before the strokes at the page's threshold,
    a coarser pixel marked if any it covers is; bad requests are one message."""
    from utils.pyramid import ViewPyramid
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 65536, (300, 500, 3), dtype=np.uint16)
    pyramid = ViewPyramid(pixels)
    part, box = pyramid.region(10, 20, 110, 70, 400)  # wider than it is: its own pixels
    assert box == (10, 20, 110, 70) and np.array_equal(
        part, ((pixels[20:70, 10:110].astype(np.uint32) + 128) // 257).astype(np.uint8))
    part, box = pyramid.region(0, 0, 500, 300, 100)  # a fifth: from the level at 1:4
    assert part.shape == (60, 100, 3) and box == (0, 0, 500, 300) and sorted(pyramid.levels) == [
        1, 2]
    marks = np.zeros((300, 500), bool)
    marks[151, 333] = True  # one pixel
    part, box = ViewPyramid(marks, marks=True).region(1, 1, 499, 299, 37)
    assert part.max() == 255 and (part > 0).sum() <= 4  # kept, however small
    assert box[0] == 0 and box[1] == 0  # whole pixels of the level

    workbench, client, _ = _bench_with_losses(tmp_path, 4, Detector("learned"))
    painting = client.post("/api/open", json={"name": "p.png"}).json["id"]
    answer = client.get(f"/api/{painting}/region?which=before&x0=0&y0=0&x1=300&y1=200&"
                        f"width=300")
    assert answer.status_code == 200 and answer.headers["X-Region"] == "0,0,300,200"
    shown = np.asarray(Image.open(io.BytesIO(answer.data)))
    assert np.array_equal(shown, read_scan(tmp_path / "paintings" / "p.png").colour)
    detected = workbench.get(painting).detected
    for threshold in ("0.95", "0.2"):
        answer = client.get(f"/api/{painting}/mask-region?x0=0&y0=0&x1=300&y1=200&width=300"
                            f"&threshold={threshold}&selections=")
        alpha = np.asarray(Image.open(io.BytesIO(answer.data)).convert("RGBA"))[..., 3]
        if threshold == "0.95":
            assert np.array_equal(alpha > 0, detected)
    assert (alpha > 0).sum() > detected.sum()  # a lower threshold marks more
    for query, words in [("which=after&x0=0&y0=0&x1=9&y1=9&width=9", "not restored"),
                         ("which=nope&x0=0&y0=0&x1=9&y1=9&width=9", "before or after"),
                         ("which=before&x0=0&y0=0&x1=a&y1=9&width=9", "whole numbers"),
                         ("which=before&x0=400&y0=0&x1=900&y1=9&width=9", "outside"),
                         ("which=before&x0=0&y0=0&x1=9&y1=9", "whole numbers")]:
        answer = client.get(f"/api/{painting}/region?{query}")
        assert answer.status_code == 400 and words in answer.json["error"], query
    for query, words in [("threshold=2", "between 0 and 1"), ("threshold=x", "not a number"),
                         ("selections=nope", "selection was lost")]:
        answer = client.get(f"/api/{painting}/mask-region?x0=0&y0=0&x1=9&y1=9&width=9&{query}")
        assert answer.status_code == 400 and words in answer.json["error"], query
    bad = client.post(f"/api/{painting}/restore", data={
        "method": "telea", "strokes": (io.BytesIO(b"[1]"), "strokes.json")})
    assert bad.status_code == 400 and "brush's or an eraser's" in bad.json["error"]
    deep = client.post(f"/api/{painting}/restore", data={
        "method": "telea", "strokes": (io.BytesIO(b"[" * 100_000), "strokes.json")})
    assert deep.status_code == 400 and "not JSON" in deep.json["error"]
    # a long session's strokes (40,000 points, 660 KB: over a form field's 500 KB limit)
    points = [[round(20 + 0.00625 * i, 2), 150.5] for i in range(40_000)]
    long = json.dumps([{"tool": "brush", "width": 1, "points": points}]).encode()
    assert len(long) > 500_000
    answer = client.post(f"/api/{painting}/restore", data={
        "method": "telea", "strokes": (io.BytesIO(long), "strokes.json")})
    assert answer.status_code == 200, answer.json
    while client.get(f"/api/{painting}/status").json["state"] == "running":
        time.sleep(0.05)
    assert client.get(f"/api/{painting}/status").json["state"] == "done"
    assert workbench.get(painting).result()["mask"][150, 20:270].all()
    # too much to draw: refused with a message, not minutes of work
    wide = json.dumps([{"tool": "brush", "width": 10_000,
                        "points": [[0, 0], [300, 200]] * 20_000}]).encode()
    answer = client.post(f"/api/{painting}/restore", data={
        "method": "telea", "strokes": (io.BytesIO(wide), "strokes.json")})
    assert answer.status_code == 400 and "too many or too wide" in answer.json["error"]
    # the server keeps the last few paintings opened: an older one asks to be opened again
    from workbench.server import KEEP_OPEN
    for _ in range(KEEP_OPEN):
        client.post("/api/open", json={"name": "p.png"})
    gone = client.get(f"/api/{painting}/status")
    assert gone.status_code == 400 and "open it again" in gone.json["error"]


def test_learning_from_marks_selects_every_loss_like_them_and_an_eraser_stroke_corrects_it(
        tmp_path):
    """A click on one loss, then "learn every loss like my marks": every loss like it; a banner
    painted in the ground's own colour is taken too, until one eraser stroke across it is
    learned from."""
    pytest.importorskip("flask")
    from workbench.server import Workbench
    rng = np.random.default_rng(0)
    damaged, truth = with_losses(rng, textured_painting(rng), count=5)
    banner = (slice(20, 60), slice(200, 280))
    damaged[banner] = LOSS_RGB + rng.normal(0, 0.01, (40, 80, 3))
    (tmp_path / "f").mkdir()
    Image.fromarray(np.round(damaged * 255).astype(np.uint8)).save(tmp_path / "f" / "p.png")
    workbench = Workbench(tmp_path / "f", tmp_path / "out", detector=Detector("white"))
    client = _client(workbench)
    painting = client.post("/api/open", json={"name": "p.png"}).json["id"]
    count, labels = cv2.connectedComponents(truth.view(np.uint8), connectivity=8)
    x, y = innermost(labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    key = client.post(f"/api/{painting}/select", json={"x": x, "y": y}).json["selection"]

    def learn(strokes=()):
        answer = client.post(f"/api/{painting}/learn", data={
            "selections": key, "strokes": (io.BytesIO(json.dumps(list(strokes)).encode()),
                                           "strokes.json")})
        assert answer.status_code == 200, answer.json
        return workbench.get(painting).selections[answer.json["selection"]][0]
    first = learn()
    assert first[banner].mean() > 0.2  # the banner looks like a loss
    assert detection_scores(first & ~_box(banner, first.shape), truth, tolerance=3)[
        "tol_f1"] > 0.8  # every loss, from one click
    corrected = learn([{"tool": "eraser", "width": 8, "points": [[205, 40], [275, 40]]}])
    assert corrected[banner].mean() < 0.1
    assert detection_scores(corrected, truth, tolerance=3)["tol_f1"] > 0.8
    # nothing marked: nothing to learn from, said so
    client.post(f"/api/{painting}/select", json={"x": 5, "y": 5, "out": True})
    empty = client.post(f"/api/{painting}/learn", data={"selections": ""})
    assert empty.status_code == 400 and "click a loss or brush one" in empty.json["error"]


def _box(box, shape):
    inside = np.zeros(shape, bool)
    inside[box] = True
    return inside
