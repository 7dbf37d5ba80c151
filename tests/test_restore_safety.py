"""restore.py never harms a user's data: inputs never written to, every known pixel kept at the
input's own depth with its alpha, profile and metadata, batches that finish, one clear line for
every mistake."""
import hashlib
import json
import os
import resource
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageCms

from conftest import (ROOT, damaged_painting, digests, error_line, run_script,
                      synthetic_painting)
from scans.scan import Scan, read_scan, write_png


def _save(path, image):
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    return path


def test_outputs_never_overwrite_an_input(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    damaged, _, truth = damaged_painting()
    _save(scans / "fresco.png", damaged)
    _save(scans / "fresco_mask.png", np.repeat(truth[..., None], 3, -1))  # the user's own mask
    before = digests(tmp_path)
    # the output folder is the input folder: the detected mask would replace the user's
    message = error_line(run_script("restore.py", scans, "-o", scans, "--method", "telea"))
    assert "would overwrite the input" in message and "fresco_mask.png" in message
    # the user's mask given by name, output beside it
    message = error_line(run_script("restore.py", scans / "fresco.png", "--mask",
                                scans / "fresco_mask.png", "-o", scans, "--method", "telea"))
    assert "would overwrite the input" in message
    # the same file through a link and '..'
    (tmp_path / "link").symlink_to(scans)
    message = error_line(run_script("restore.py", scans / "fresco.png", "--mask",
                                tmp_path / "link" / ".." / "scans" / "fresco_mask.png",
                                "-o", tmp_path / "link", "--method", "telea"))
    assert "would overwrite the input" in message
    assert digests(tmp_path) == before  # nothing written anywhere

    # with a folder of masks (here the same folder) and another output folder it works
    result = run_script("restore.py", scans, "--mask", scans, "-o", tmp_path / "out",
                        "--method", "telea")
    assert result.returncode == 0, result.stderr
    written = read_scan(tmp_path / "out" / "fresco_mask.png").colour[..., 0] > 0
    assert np.array_equal(written, truth > 0)


def test_a_second_run_does_not_restore_its_own_outputs(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    _save(scans / "a.png", damaged_painting(0)[0])
    for _ in range(2):
        result = run_script("restore.py", scans, "-o", scans / "restored", "--method", "ns")
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (scans / "restored").iterdir()) == [
        "a_figure.jpg", "a_mask.png", "a_record.json", "a_restored.png"]
    # into the scanned folder itself: its earlier outputs are recognised (their record) and
    # replaced, never taken as paintings
    for _ in range(2):
        result = run_script("restore.py", scans, "-o", scans, "--method", "ns")
        assert result.returncode == 0, result.stderr
        assert "a_restored_restored" not in result.stdout
    assert not list(scans.glob("*_restored_*"))


def _sixteen_bit_scan(path, rng, alpha=False, gray=False):
    """A 16-bit scan with whitish flakes, an ICC profile and EXIF (orientation 6, an artist)."""
    clean = synthetic_painting(rng, 90, 140) * 0.8
    colour = (clean[..., :1] if gray else clean) * 65535
    colour = colour.astype(np.uint16) + rng.integers(0, 256, (90, 140, colour.shape[2]),
                                                     dtype=np.uint16)  # the low byte matters
    flakes = rng.random((90, 140)) < 0.02
    colour[flakes] = 65535
    exif = Image.Exif()
    exif[0x0112], exif[0x013B] = 6, "A. Conservator"
    loaded = Image.Exif()
    loaded.load(exif.tobytes())
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    a = (rng.random((90, 140)) * 65535).astype(np.uint16) if alpha else None
    write_png(path, Scan(colour, a, icc, loaded))
    return colour, a, icc


@pytest.mark.parametrize("fmt,suffix", [("png", ".png"), ("tiff", ".tif")])
@pytest.mark.parametrize("alpha,gray", [(False, False), (True, False), (False, True)])
def test_every_known_pixel_kept_at_sixteen_bits_with_profile_and_exif(tmp_path, fmt, suffix,
                                                                     alpha, gray):
    rng = np.random.default_rng(1)
    colour, a, icc = _sixteen_bit_scan(tmp_path / "scan.png", rng, alpha, gray)
    result = run_script("restore.py", tmp_path / "scan.png", "-o", tmp_path / "out",
                        "--format", fmt, "--method", "telea", "--detect", "white")
    assert result.returncode == 0, result.stderr
    out = read_scan(tmp_path / "out" / f"scan_restored{suffix}")
    mask = read_scan(tmp_path / "out" / "scan_mask.png").colour[..., 0] > 0
    upright = np.rot90(colour, -1)  # EXIF orientation 6, applied once, then recorded as 1
    assert out.colour.dtype == np.uint16 and out.colour.shape == upright.shape
    assert np.array_equal(out.colour[~mask], upright[~mask])  # bit-identical at 16 bits
    assert (out.colour[mask] < 60000).all()  # the flakes are filled
    if alpha:
        assert np.array_equal(out.alpha, np.rot90(a, -1))
    else:
        assert out.alpha is None
    assert out.icc == icc
    assert out.exif[0x013B] == "A. Conservator" and out.exif[0x0112] == 1

    record = json.loads((tmp_path / "out" / "scan_record.json").read_text())
    data = (tmp_path / "scan.png").read_bytes()
    assert record["input"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["input"]["bytes"] == len(data) and "16-bit" in record["input"]["pixels"]
    assert record["method"] == "telea" and record["mask"]["detector"]["method"] == "white"
    assert record["masked_fraction"] == pytest.approx(mask.mean())
    assert record["tool"]["project_version"]
    assert record["seconds"]["total"] >= record["seconds"]["fill"] >= 0


def test_auto_records_its_model_and_keeps_rgba_8_bit(tmp_path):
    rng = np.random.default_rng(2)
    image = (synthetic_painting(rng, 120, 160) * 0.8 * 255).astype(np.uint8)
    image[40:80, 50:110] = 255  # a wide loss for the model
    alpha = rng.integers(1, 256, (120, 160), dtype=np.uint8)
    Image.fromarray(np.dstack([image, alpha]), "RGBA").save(tmp_path / "a.png")
    # the loss clicked (the learned detector's own record: test_first_run.py)
    result = run_script("restore.py", tmp_path / "a.png", "-o", tmp_path / "out",
                        "--point", "80,60")
    assert result.returncode == 0, result.stderr
    out = read_scan(tmp_path / "out" / "a_restored.png")
    assert np.array_equal(out.alpha, alpha) and out.colour.dtype == np.uint8
    record = json.loads((tmp_path / "out" / "a_record.json").read_text())
    model = ROOT / "pretrained" / "context_encoder.keras"
    assert record["model"] == {"path": str(model),
                               "sha256": hashlib.sha256(model.read_bytes()).hexdigest()}
    assert record["mask"]["detector"]["method"] == "clicks"
    assert record["mask"]["detector"]["points"] == [[80, 60]]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.slow
def test_a_batch_reports_a_bad_painting_and_restores_the_rest(tmp_path, jobs):
    scans, out = tmp_path / "scans", tmp_path / "out"
    scans.mkdir()
    for name in ("a", "c"):
        _save(scans / f"{name}.png", damaged_painting()[0])
    whole = scans / "whole.jpg"
    Image.fromarray((damaged_painting()[0] * 255).astype(np.uint8)).save(whole, quality=95)
    (scans / "b.jpg").write_bytes(whole.read_bytes()[:len(whole.read_bytes()) // 2])  # truncated
    whole.unlink()
    out.mkdir()
    (out / ".partial-999-a_restored.png").write_bytes(b"left by a killed run")
    result = run_script("restore.py", scans, "-o", out, "--method", "ns", "--jobs", jobs)
    message = error_line(result)
    assert "1 of 3 paintings failed" in message and "b.jpg" in message
    # its own line says why
    assert any("b.jpg" in line and "not a readable image" in line and "(skipped)" in line
               for line in result.stderr.splitlines())
    assert sorted(p.name for p in out.glob("*_restored.png")) == ["a_restored.png",
                                                                 "c_restored.png"]
    assert not list(out.glob(".partial-*")) and not list(out.glob("b_*"))


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(tmp_path):
    _save(tmp_path / "p.png", damaged_painting(shape=(300, 400))[0])
    limit = 20_000  # bytes: the restored PNG does not fit, as on a full disk

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    result = subprocess.run([sys.executable, str(ROOT / "restore.py"), str(tmp_path / "p.png"),
                             "-o", str(tmp_path / "out"), "--method", "telea"],
                            capture_output=True, text=True, timeout=300, preexec_fn=small_disk)
    assert "cannot write" in error_line(result)
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_each_mistake_is_one_line(tmp_path):
    painting = _save(tmp_path / "p.png", damaged_painting()[0])
    _save(tmp_path / "q.png", damaged_painting()[0])
    (tmp_path / "text.keras").write_text("not a model")
    (tmp_path / "out" / "p_restored.png").mkdir(parents=True)
    cases = {
        "a threshold that is no probability": ([painting, "--threshold", "1.5"],
                                               "from 0.0 to 1.0"),
        "clicks on two paintings": ([painting, painting.with_name("q.png"), "--point", "3,4"],
                                    "on one painting"),
        "a click outside the painting": ([painting, "--point", "900,4"], "lies outside"),
        "an existing folder named like an output": ([painting, "-o", tmp_path / "out"],
                                                    "is a folder"),
        "a misspelt method": ([painting, "--method", "teela"], "telea, ns, biharmonic"),
        "a text file named .keras": ([painting, "--method", tmp_path / "text.keras"],
                                     "is not a Keras model file"),
        "the same, told by two workers": ([painting, painting.with_name("q.png"), "--jobs", "2",
                                           "--model", tmp_path / "text.keras"],
                                          "is not a Keras model file"),
        "a mask folder without the mask": ([painting, "--mask", tmp_path / "out"],
                                           "no mask for p.png"),
        "a negative radius": ([painting, "--radius", "-2"], "is from 1 to 100"),
        "a huge radius": ([painting, "--radius", "100000"], "is from 1 to 100"),
        "an infinite thin radius": ([painting, "--thin-radius", "inf"], "is from 0.5 to 1000"),
        "a NaN threshold": ([painting, "--threshold", "nan"], "from 0.0 to 1.0"),
        "a painting over --max-pixels": ([painting, "--max-pixels", "1000"],
                                         "raise it to 21600"),
    }
    for name, (args, expected) in cases.items():
        if "-o" not in map(str, args):
            args = [*args, "-o", tmp_path / "elsewhere"]
        assert expected in error_line(run_script("restore.py", *args)), name
    elsewhere = tmp_path / "elsewhere"
    assert not elsewhere.exists() or not any(elsewhere.iterdir())  # no file written


def test_an_all_white_painting_is_not_turned_black(tmp_path):
    _save(tmp_path / "white.png", np.ones((60, 80, 3)))
    message = error_line(run_script("restore.py", tmp_path / "white.png", "-o", tmp_path / "out",
                                "--detect", "white"))
    assert "covers the whole painting" in message
    half = np.full((60, 80, 3), 0.3)
    half[:, 20:] = 1.0
    # over half the painting: refused, with the two ways on (a mask drawn black on white, or
    # a fill the user asks for)
    message = error_line(run_script("restore.py", _save(tmp_path / "half.png", half), "-o",
                                    tmp_path / "o2", "--method", "ns", "--detect", "white"))
    assert "75%" in message and "--mask-invert" in message and "--allow-large-mask" in message
    assert not (tmp_path / "o2" / "half_restored.png").exists()
    result = run_script("restore.py", tmp_path / "half.png", "-o", tmp_path / "o2",
                        "--method", "ns", "--detect", "white", "--allow-large-mask")
    assert result.returncode == 0 and "warning:" in result.stderr and "75.0%" in result.stderr


@pytest.mark.slow
def test_a_normal_run_prints_only_its_own_lines(tmp_path):
    # a process of its own: TensorFlow's start-up lines would show there
    # 9% of it lost, 13% marked with the margins: over the share that warns, which is not
    # what this test is about
    result = run_script("restore.py", _save(tmp_path / "p.png", damaged_painting()[0]),
                        "-o", tmp_path / "out", "--warn-share", "0.2",
                        fresh=True)  # auto: TensorFlow loads the model
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.strip().splitlines() == [
        f"{tmp_path / 'p.png'}: filled {result.stdout.split('filled ')[1].split('%')[0]}% of "
        f"the painting -> {tmp_path / 'out' / 'p_restored.png'}"]


@pytest.mark.slow
def test_a_path_that_is_not_a_regular_file_is_refused_not_waited_on(tmp_path):
    """A FIFO (or device, or socket) given as a painting would block a reader forever; a text
    or empty file given as a mask is not an image: each is one line, in every tool."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for script, args in (("restore.py", [fifo, "-o", tmp_path / "out"]),
                         ("pixel_diff.py", [fifo, "--roi", "0,0,10,10"])):
        result = run_script(script, *args, fresh=True, timeout=60)  # a hang fails here
        assert result.returncode == 2 and "not a regular file" in result.stderr, script
        assert "Traceback" not in result.stderr
    painting = _save(tmp_path / "p.png", damaged_painting()[0])
    for name, content in (("text_mask.tif", b"not a mask"), ("empty_mask.png", b"")):
        (tmp_path / name).write_bytes(content)
        result = run_script("restore.py", painting, "--mask", tmp_path / name, "-o",
                            tmp_path / "out")
        assert result.returncode == 2 and "not a readable image" in result.stderr, name
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("port", ["-1", "65536", "99999", "http"])
def test_the_workbench_refuses_a_port_that_is_not_one(port):
    result = run_script("app.py", "--port", port)
    assert result.returncode == 2 and "port" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("fmt", ["png", "tiff"])
def test_a_file_compressed_in_threads_is_the_same_file_and_every_pixel(tmp_path, fmt,
                                                                       monkeypatch):
    # the writers compress their strips in threads: the bytes must not depend on how many,
    # and a PNG of many strips must be one valid zlib stream (its Adler-32 checked)
    import struct
    import zlib

    from scans import scan
    rng = np.random.default_rng(3)
    shape = (1100, 1000)  # 8.8 MB of 16-bit RGBA: three strips of a PNG, nine of a TIFF
    ramp = np.add.outer(np.arange(shape[0]), np.arange(shape[1])) * 29
    colour = (ramp[..., None] + rng.integers(0, 64, shape + (3,))).astype(np.uint16)
    alpha = (ramp // 2 + rng.integers(0, 64, shape)).astype(np.uint16)
    written = {}
    for threads in (1, 3):
        monkeypatch.setattr(scan, "WRITE_THREADS", threads)
        path = tmp_path / f"{threads}.{fmt}"
        scan.write_scan(path, Scan(colour, alpha, None), fmt)
        written[threads] = path.read_bytes()
    assert written[1] == written[3]
    back = read_scan(tmp_path / f"3.{fmt}")
    assert np.array_equal(back.colour, colour) and np.array_equal(back.alpha, alpha)
    if fmt == "png":
        data, stream = written[3][8:], b""
        while data:
            size, kind = struct.unpack(">I", data[:4])[0], data[4:8]
            stream += data[8:8 + size] if kind == b"IDAT" else b""
            data = data[12 + size:]
        assert len(zlib.decompress(stream)) == shape[0] * (1 + shape[1] * 8)
        assert stream.count(b"\x00\x00\xff\xff") >= 3  # a sync flush ends each strip
