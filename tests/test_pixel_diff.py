"""pixel_diff.py: rectangles and clicks given headless with --roi and --point, and drawn and
clicked in the real OpenCV window under Xvfb with xdotool."""
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_script, synthetic_painting, textured_painting, with_losses
from detection.detect import detection_scores


@pytest.fixture
def painting(tmp_path):
    """A 200 x 300 painting with no whitish paint, scattered white flakes painted on."""
    rng = np.random.default_rng(3)
    image = (synthetic_painting(rng, 200, 300) * 0.5 * 255).astype(np.uint8)  # all below 150
    flakes = rng.random((200, 300)) < 0.05
    image[flakes] = 240
    path = tmp_path / "painting.png"
    Image.fromarray(image).save(path)
    return path


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _mask_of(out):
    """The mask beside a restored file, named as restore.py names it: x_restored.png, x_mask.png
    (and -o y.tif: y_mask.png)."""
    return out.with_name(out.stem.removesuffix("_restored") + "_mask.png")


def _check_output(painting, out, rectangles):
    """The mask is the white flakes inside the rectangles (dilated by 1 px, clipped to them), and
    only masked pixels changed."""
    original = np.asarray(Image.open(painting))
    restored = np.asarray(Image.open(out))
    mask = np.asarray(Image.open(_mask_of(out))) > 127
    inside = np.zeros(mask.shape, bool)
    for x, y, w, h in rectangles:
        inside[y:y + h, x:x + w] = True
    flakes = (original >= 150).all(axis=-1)
    assert np.array_equal(mask & flakes, flakes & inside)  # every flake inside, none outside
    assert not (mask & ~inside).any()
    assert np.array_equal(restored[~mask], original[~mask])
    assert (restored[flakes & inside] < 200).all()  # filled from the dark paint around


def test_roi_headless_default_output_beside_the_painting(painting):
    before = _md5(painting)
    result = run_script("pixel_diff.py", painting, "--roi", "10,20,100,80", "--roi",
                        "150,100,120,90")
    assert result.returncode == 0, result.stderr
    assert _md5(painting) == before
    _check_output(painting, painting.with_name("painting_restored.png"),
                  [(10, 20, 100, 80), (150, 100, 120, 90)])
    # the four files of restore.py, named as it names them, with one record
    record = json.loads(painting.with_name("painting_record.json").read_text())
    assert set(record["outputs"]) == {"restored", "mask", "figure", "record"}
    assert record["outputs"]["mask"] == str(painting.with_name("painting_mask.png").resolve())
    assert {"input", "mask", "masked_fraction", "method", "model", "settings", "seconds",
            "tool"} <= set(record)
    # a second run replaces its own files; a user's own file of an output's name is kept
    assert run_script("pixel_diff.py", painting, "--roi", "10,20,100,80").returncode == 0
    other = painting.with_name("other.png")
    other.write_bytes(painting.read_bytes())
    hand_drawn = painting.with_name("other_mask.png")
    hand_drawn.write_bytes(b"a restorer's own mask")
    result = run_script("pixel_diff.py", other, "--roi", "10,20,100,80")
    assert result.returncode == 2 and "other_mask.png exists" in result.stderr
    assert hand_drawn.read_bytes() == b"a restorer's own mask"
    assert not painting.with_name("other_restored.png").exists()


def test_help_and_errors(painting, tmp_path, monkeypatch):
    assert "--roi" in run_script("pixel_diff.py", "--help").stdout
    cases = [
        ([painting], "no display", "headless"),
        ([painting, "--roi", "1,2,3"], "expected x,y,width,height", None),
        ([painting, "--roi", "0,0,10,10", "-o", painting], "would overwrite the input", None),
        ([painting, "--roi", "-5,0,10,10"], "x and y must be >= 0", None),
        ([painting, "--roi", "0,0,10,10", "-o", tmp_path], "is a folder", None),
        ([painting, "--roi", "0,0,10,10", "-o", tmp_path / "x.jpg"], "as .png or .tif", None),
        ([painting, "--roi", "0,0,10,10", "--radius", "0"], "is from 1 to 100", None),
        ([painting, "--roi", "0,0,10,10", "--threshold", "300"], "is from 0 to 255", None),
        ([painting, "--roi", "0,0,10,10", "--grow", "99999"], "is from -1000 to 1000", None),
        ([tmp_path / "missing.png", "--roi", "0,0,10,10"], "no such file", None),
        ([painting, "--roi", "500,10,10,10"], "outside the 300 x 200 painting", None),
        ([painting, "--point", "1,2,3"], "expected X,Y", None),
        ([painting, "--point", "400,10"], "lies outside the 300 x 200 painting", None),
    ]
    for args, message, display in cases:
        with monkeypatch.context() as patch:
            if display == "headless":
                patch.delenv("DISPLAY", raising=False)
                patch.delenv("WAYLAND_DISPLAY", raising=False)
            result = run_script("pixel_diff.py", *args)  # in this process: seconds, not 30
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip().splitlines()[-1].startswith("error: ")
        assert message in result.stderr, (args, result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["painting.png"]  # nothing written


def test_its_mask_never_overwrites_an_input(painting, tmp_path):
    """pixel_diff.py in/scan_mask.png -o in/scan.png would write its mask over its input."""
    scan_mask = painting.rename(tmp_path / "scan_mask.png")
    before = _md5(scan_mask)
    result = run_script("pixel_diff.py", scan_mask, "--roi", "0,0,50,50",
                        "-o", tmp_path / "scan.png")
    assert result.returncode == 2 and "would overwrite the input" in result.stderr
    assert _md5(scan_mask) == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "scan_mask.png"]


@pytest.mark.parametrize("method", ["telea", "patchmatch"])
def test_sixteen_bit_gray_with_alpha_and_profile_to_tiff(tmp_path, method):
    """16-bit in, 16-bit out; gray stays gray, alpha and the ICC profile are carried, known
    pixels bit-identical at 16 bits (PatchMatch, which works in 8 bits, too)."""
    from PIL import ImageCms

    from scans.scan import Scan, read_scan, write_png
    rng = np.random.default_rng(0)
    gray = (rng.random((60, 90, 1)) * 30000).astype(np.uint16)
    gray[rng.random((60, 90)) < 0.03] = 65000  # whitish flakes
    alpha = (rng.random((60, 90)) * 65535).astype(np.uint16)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    write_png(tmp_path / "scan.png", Scan(gray, alpha, icc))
    result = run_script("pixel_diff.py", tmp_path / "scan.png", "--roi", "0,0,90,60",
                        "--format", "tiff", "--method", method)
    assert result.returncode == 0, result.stderr
    out = read_scan(tmp_path / "scan_restored.tif")
    mask = read_scan(tmp_path / "scan_mask.png").colour[..., 0] > 0
    assert out.colour.dtype == np.uint16 and out.colour.shape == (60, 90, 1)
    assert np.array_equal(out.alpha, alpha) and out.icc == icc
    assert np.array_equal(out.colour[~mask], gray[~mask])
    assert out.colour[gray[..., 0] == 65000].max() < 40000  # the flakes are filled
    assert (tmp_path / "scan_record.json").is_file()


def _wait(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_clicks_headless_select_every_similar_loss(tmp_path):
    rng = np.random.default_rng(2)
    damaged, truth = with_losses(rng, textured_painting(rng), count=5)
    painting = tmp_path / "page.png"
    Image.fromarray((damaged * 255).round().astype(np.uint8)).save(painting)
    x, y = _innermost(truth)
    result = run_script("pixel_diff.py", painting, "--point", f"{x},{y}", "--similar", "--grow",
                        "1")
    assert result.returncode == 0, result.stderr
    assert "1 click(s)" in result.stdout
    _check_clicked(painting, tmp_path / "page_restored.png", truth)
    record = json.loads((tmp_path / "page_record.json").read_text())
    assert record["mask"]["clicks"]["points"] == [[x, y]]
    assert record["mask"]["clicks"]["grow"] == 1
    assert (tmp_path / "page_figure.jpg").stat().st_size > 0


def _innermost(truth):
    inside = cv2.distanceTransform(truth.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(inside), inside.shape)
    return int(x), int(y)


def _check_clicked(painting, out, truth, only=None):
    """The mask covers the losses, the clicked one and the others (with only=(x, y): the loss
    there alone), and nothing else changed."""
    if only is not None:
        _, labels = cv2.connectedComponents(truth.astype(np.uint8), connectivity=8)
        truth = labels == labels[only[1], only[0]]
    original = np.asarray(Image.open(painting))
    restored = np.asarray(Image.open(out))
    mask = np.asarray(Image.open(_mask_of(out))) > 127
    assert detection_scores(mask, truth, tolerance=3)["tol_f1"] > 0.9
    assert np.array_equal(restored[~mask], original[~mask])


@contextlib.contextmanager
def _window(painting, out):
    """pixel_diff.py's real window on a virtual display: yields (xdo, the window, the process);
    after the block, Enter until the tool has exited."""
    # Xvfb picks a free display itself and writes its number to the pipe: two test workers
    # (pytest -n 2) never share one
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1200x24"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as pipe:
        display = f":{pipe.readline().strip()}"
    env = {**os.environ, "DISPLAY": display}
    try:
        _wait(lambda: subprocess.run(["xdotool", "getmouselocation"], env=env,
                                     capture_output=True).returncode == 0, 30, "Xvfb")
        # telea: the window and the mask are the point, and a classical fill starts no
        # TensorFlow (seconds a test)
        tool = subprocess.Popen([sys.executable, str(ROOT / "pixel_diff.py"), str(painting),
                                 "-o", str(out), "--method", "telea"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def window():
            found = subprocess.run(["xdotool", "search", "--name", "pixel_diff"], env=env,
                                   capture_output=True, text=True).stdout.split()
            return found[0] if found else None
        win = _wait(window, 90, "the pixel_diff window")
        time.sleep(1.0)  # let it draw and start listening

        def xdo(*args):
            subprocess.run(["xdotool", *args], env=env, check=True)
        yield xdo, win, tool
        time.sleep(0.5)
        deadline = time.time() + 60
        while tool.poll() is None and time.time() < deadline:
            subprocess.run(["xdotool", "key", "--window", win, "Return"], env=env,
                           capture_output=True)
            time.sleep(1.0)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _drag(xdo, win, *points):
    """A drag with the left button through points of the window; each event given time to
    arrive, as a hand would (a press sent with the move could land before it, once)."""
    xdo("mousemove", "--window", win, *map(str, points[0]))
    time.sleep(0.3)
    xdo("mousedown", "1")
    for x, y in points[1:]:
        time.sleep(0.2)
        xdo("mousemove", "--window", win, str(x), str(y))
    time.sleep(0.3)
    xdo("mouseup", "1")


needs_xvfb = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                reason="needs Xvfb and xdotool (apt-get install xvfb xdotool; "
                                       ".ci/run installs them)")


@needs_xvfb
@pytest.mark.slow
def test_drag_a_rectangle_in_the_real_window(painting, tmp_path):
    out = tmp_path / "drawn.png"
    with _window(painting, out) as (xdo, win, tool):
        _drag(xdo, win, (30, 40), (80, 80), (130, 120))  # window (= painting) pixels
    stdout, stderr = tool.communicate(timeout=30)
    assert tool.returncode == 0, stderr
    assert "1 rectangle(s), 0 click(s)" in stdout
    _check_output(painting, out, [(30, 40, 100, 80)])


@needs_xvfb
@pytest.mark.slow
def test_click_a_loss_in_the_real_window(tmp_path):
    rng = np.random.default_rng(2)
    damaged, truth = with_losses(rng, textured_painting(rng), count=5)
    painting = tmp_path / "page.png"
    Image.fromarray((damaged * 255).round().astype(np.uint8)).save(painting)
    out = tmp_path / "clicked.png"
    x, y = _innermost(truth)
    with _window(painting, out) as (xdo, win, tool):
        # (the pointer is moved and given time to arrive before each click: on a loaded
        # machine a click chained to the move can land where the pointer was)
        xdo("mousemove", "--window", win, "5", "5")
        time.sleep(0.5)
        xdo("click", "1")  # a click on paint...
        time.sleep(0.5)
        xdo("key", "--window", win, "BackSpace")  # ...taken back
        xdo("mousemove", "--window", win, str(x), str(y))
        time.sleep(0.5)
        xdo("click", "1")
    stdout, stderr = tool.communicate(timeout=30)
    assert tool.returncode == 0, stderr
    assert "0 rectangle(s), 1 click(s)" in stdout
    _check_clicked(painting, out, truth, only=(x, y))  # the clicked loss, not the others


def _large_painting(tmp_path):
    """A 2000 x 1200 painting with white flakes, as the fixture's: larger than the window."""
    rng = np.random.default_rng(4)
    image = (synthetic_painting(rng, 1200, 2000) * 0.5 * 255).astype(np.uint8)
    image[rng.random((1200, 2000)) < 0.05] = 240
    path = tmp_path / "large.png"
    Image.fromarray(image).save(path)
    return path, image


def test_the_window_zooms_about_the_pointer_and_pans_in_the_paintings_pixels(tmp_path):
    """pixel_diff.py's window without a display: the view's arithmetic, the keys, the wheel, a
    pan, and rectangles and clicks in the painting's pixels at any zoom."""
    pd = pytest.importorskip("pixel_diff")
    _, image = _large_painting(tmp_path)
    view = pd.View(image)
    assert view.fit == 0.7 and view.size == (1400, 840)
    selection = pd.Selection(view)
    selection.key(ord("1"))  # its own pixels, about the window's middle
    assert (view.zoom, view.x0, view.y0) == pytest.approx((1.0, 300.0, 180.0))
    shown = selection.draw()
    assert np.array_equal(shown[..., ::-1], image[180:1020, 300:1700])  # exactly its pixels
    selection.on_mouse(cv2.EVENT_LBUTTONDOWN, 50, 60, 0, None)
    selection.on_mouse(cv2.EVENT_MOUSEMOVE, 100, 100, 0, None)
    selection.on_mouse(cv2.EVENT_LBUTTONUP, 150, 160, 0, None)
    assert selection.rectangles == [(350, 240, 100, 100)]
    selection.on_mouse(cv2.EVENT_LBUTTONDOWN, 10, 10, 0, None)
    selection.on_mouse(cv2.EVENT_LBUTTONUP, 11, 11, 0, None)
    assert selection.points == [(310, 190)]
    before = view.to_painting(200, 100)
    view.zoom_at(1.25, 200, 100)  # the painting's pixel under the point stays there
    assert view.zoom == 1.25 and np.allclose(view.to_painting(200, 100), before)
    selection.shown = None
    assert (selection.draw()[100, 200, ::-1] == image[int(before[1]), int(before[0])]).all()
    x0 = view.x0
    selection.on_mouse(cv2.EVENT_RBUTTONDOWN, 500, 500, 0, None)
    selection.on_mouse(cv2.EVENT_MOUSEMOVE, 540, 520, 0, None)
    selection.on_mouse(cv2.EVENT_RBUTTONUP, 540, 520, 0, None)
    assert view.x0 == pytest.approx(x0 - 40 / 1.25) and not selection.rectangles[1:]  # a pan
    for _ in range(30):
        selection.key(ord("-"))  # out, to the end: the whole painting
    assert view.zoom == view.fit and (view.x0, view.y0) == (0.0, 0.0)
    selection.key(ord("1"))
    for _ in range(30):
        selection.key(ord("+"))
    assert view.zoom == pd.MAX_ZOOM
    selection.key(ord("0"))
    assert view.zoom == view.fit
    assert selection.draw().shape == (840, 1400, 3)


@needs_xvfb
@pytest.mark.slow
def test_zoom_and_drag_in_the_real_window(tmp_path):
    """1:1 by its key, then + (2 window pixels for each of the painting's), then a rectangle
    dragged around a place: the mask is the flakes of that place of the painting."""
    painting, _ = _large_painting(tmp_path)
    out = tmp_path / "zoomed.png"
    with _window(painting, out) as (xdo, win, tool):
        xdo("key", "--window", win, "1")  # the window's middle (700, 420): the painting's
        time.sleep(0.5)                     # (1000, 600), one window pixel for each
        xdo("key", "--window", win, "plus")  # two, about the middle
        time.sleep(0.5)
        _drag(xdo, win, (700, 400), (740, 440), (780, 480))  # the painting's (1000, 590) to
    stdout, stderr = tool.communicate(timeout=60)                 # (1040, 630)
    assert tool.returncode == 0, stderr
    assert "1 rectangle(s), 0 click(s)" in stdout
    _check_output(painting, out, [(1000, 590, 40, 40)])
