"""pixel_diff.py: rectangles given headless with --roi, and drawn in the real OpenCV window under
Xvfb with xdotool."""
import hashlib
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_script, synthetic_painting


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


def _check_output(painting, out, rectangles):
    """The mask is the white flakes inside the rectangles (dilated by 1 px, clipped to them), and
    only masked pixels changed."""
    original = np.asarray(Image.open(painting))
    restored = np.asarray(Image.open(out))
    mask = np.asarray(Image.open(out.with_name(out.stem + "_mask.png"))) > 127
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


def test_help_and_errors(painting, tmp_path):
    assert "--roi" in run_script("pixel_diff.py", "--help").stdout
    headless = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    cases = [
        ([painting], "no display", headless),
        ([painting, "--roi", "1,2,3"], "expected x,y,width,height", None),
        ([painting, "--roi", "0,0,10,10", "-o", painting], "would overwrite the input", None),
        ([painting, "--roi", "-5,0,10,10"], "x and y must be >= 0", None),
        ([painting, "--roi", "0,0,10,10", "-o", tmp_path], "is a folder", None),
        ([painting, "--roi", "0,0,10,10", "-o", tmp_path / "x.jpg"], "as .png or .tif", None),
        ([painting, "--roi", "0,0,10,10", "--radius", "0"], "must be above 0", None),
        ([tmp_path / "missing.png", "--roi", "0,0,10,10"], "no such file", None),
        ([painting, "--roi", "500,10,10,10"], "outside the 300 x 200 painting", None),
    ]
    for args, message, env in cases:
        result = subprocess.run([sys.executable, str(ROOT / "pixel_diff.py"), *map(str, args)],
                                capture_output=True, text=True, env=env, timeout=120)
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


def test_sixteen_bit_gray_with_alpha_and_profile_to_tiff(tmp_path):
    """16-bit in, 16-bit out; gray stays gray, alpha and the ICC profile are carried, known
    pixels bit-identical at 16 bits."""
    from PIL import ImageCms
    from utils.scan import Scan, read_scan, write_png
    rng = np.random.default_rng(0)
    gray = (rng.random((60, 90, 1)) * 30000).astype(np.uint16)
    gray[rng.random((60, 90)) < 0.03] = 65000  # whitish flakes
    alpha = (rng.random((60, 90)) * 65535).astype(np.uint16)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    write_png(tmp_path / "scan.png", Scan(gray, alpha, icc))
    result = run_script("pixel_diff.py", tmp_path / "scan.png", "--roi", "0,0,90,60",
                        "--format", "tiff")
    assert result.returncode == 0, result.stderr
    out = read_scan(tmp_path / "scan_restored.tif")
    mask = read_scan(tmp_path / "scan_restored_mask.png").colour[..., 0] > 0
    assert out.colour.dtype == np.uint16 and out.colour.shape == (60, 90, 1)
    assert np.array_equal(out.alpha, alpha) and out.icc == icc
    assert np.array_equal(out.colour[~mask], gray[~mask])
    assert out.colour[gray[..., 0] == 65000].max() < 40000  # the flakes are filled
    assert (tmp_path / "scan_restored_record.json").is_file()


def _wait(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                    reason="needs Xvfb and xdotool (apt-get install xvfb xdotool; .ci/run "
                           "installs them)")
def test_drag_a_rectangle_in_the_real_window(painting, tmp_path):
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x1024x24"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "DISPLAY": display}
    out = tmp_path / "drawn.png"
    try:
        _wait(lambda: subprocess.run(["xdotool", "getmouselocation"], env=env,
                                     capture_output=True).returncode == 0, 30, "Xvfb")
        tool = subprocess.Popen([sys.executable, str(ROOT / "pixel_diff.py"), str(painting),
                                 "-o", str(out)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

        def window():
            found = subprocess.run(["xdotool", "search", "--name", "pixel_diff"], env=env,
                                   capture_output=True, text=True).stdout.split()
            return found[0] if found else None
        win = _wait(window, 90, "the pixel_diff window")
        time.sleep(1.0)  # let it draw and start listening

        def xdo(*args):
            subprocess.run(["xdotool", *args], env=env, check=True)
        # drag from (30, 40) to (130, 120) in window (= painting) pixels, then Enter
        xdo("mousemove", "--window", win, "30", "40", "mousedown", "1")
        xdo("mousemove", "--window", win, "80", "80")
        xdo("mousemove", "--window", win, "130", "120", "mouseup", "1")
        time.sleep(0.5)
        xdo("key", "--window", win, "Return")
        # Enter on an empty selection finishes; repeat it until the tool has exited
        deadline = time.time() + 60
        while tool.poll() is None and time.time() < deadline:
            time.sleep(1.0)
            subprocess.run(["xdotool", "key", "--window", win, "Return"], env=env,
                           capture_output=True)
        stdout, stderr = tool.communicate(timeout=30)
        assert tool.returncode == 0, stderr
        assert "1 rectangle(s)" in stdout
        _check_output(painting, out, [(30, 40, 100, 80)])
    finally:
        server.terminate()
        server.wait(timeout=10)
