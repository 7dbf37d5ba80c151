"""Reading paintings: every format, depth and mode; bad files skipped; bombs refused."""
import hashlib
import io
import logging

import cv2
import numpy as np
import pytest
from PIL import Image

from utils import images
from utils.errors import ImageError, UserError
from utils.images import find_images, load_folder, load_image, read_image

COLOUR = (200, 120, 40)


def _solid(mode, size=(40, 30)):
    return Image.new("RGB", size, COLOUR).convert(mode)


@pytest.mark.parametrize("name,mode", [
    ("a.jpg", "RGB"), ("b.png", "RGBA"), ("c.png", "P"), ("d.png", "L"), ("e.bmp", "RGB"),
    ("f.webp", "RGB"), ("g.tif", "RGB"), ("h.tiff", "CMYK"), ("i.JPEG", "L")])
def test_every_format_and_mode_becomes_float_rgb(tmp_path, name, mode):
    path = tmp_path / name
    _solid(mode).save(path)
    image = read_image(path)
    assert image.shape == (30, 40, 3) and image.dtype == np.float32
    expected = np.asarray(_solid(mode).convert("RGB"), np.float32)[0, 0] / 255
    assert np.abs(image[15, 20] - expected).max() < 0.03


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_colour_and_gray(tmp_path, suffix):
    rng = np.random.default_rng(0)
    colour = (rng.random((20, 30, 3)) * 65535).astype(np.uint16)
    gray = (rng.random((20, 30)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / f"colour{suffix}"), colour)  # OpenCV writes BGR
    cv2.imwrite(str(tmp_path / f"gray{suffix}"), gray)
    got = read_image(tmp_path / f"colour{suffix}")
    assert np.abs(got - colour[..., ::-1] / 65535).max() < 1 / 255 + 1e-6
    got = read_image(tmp_path / f"gray{suffix}")
    assert got.shape == (20, 30, 3)
    assert np.abs(got[..., 1] - gray / 65535).max() < 1 / 255 + 1e-6


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (60, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 10, 20))  # red on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    got = read_image(tmp_path / "rotated.jpg")
    assert got.shape == (60, 20, 3)  # displayed upright: taller than wide
    assert got[2, 10, 0] > 0.8 and got[-3, 10, 2] > 0.8  # the red edge is now at the top


def test_resize_to_working_size():
    assert images.IMAGE_SIZE == (256, 384)


def test_load_image_resizes(tmp_path):
    _solid("RGB", (500, 300)).save(tmp_path / "big.png")
    got = load_image(tmp_path / "big.png", (64, 96))
    assert got.shape == (64, 96, 3) and 0.0 <= got.min() and got.max() <= 1.0


def _digest(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def test_folder_skips_bad_files_with_a_warning_naming_them(tmp_path, caplog):
    _solid("RGB").save(tmp_path / "good.png")
    (tmp_path / "sub").mkdir()
    _solid("RGB").save(tmp_path / "sub" / "nested.jpg")
    buffer = io.BytesIO()
    _solid("RGB", (200, 200)).save(buffer, "JPEG")
    (tmp_path / "truncated.jpg").write_bytes(buffer.getvalue()[:300])
    (tmp_path / "notes.png").write_text("not an image at all")
    (tmp_path / "readme.txt").write_text("ignored: not an image suffix")
    before = _digest(tmp_path)
    with caplog.at_level(logging.WARNING, logger="paintings"):
        array, paths = load_folder(tmp_path, (32, 32))
    assert [p.name for p in paths] == ["good.png", "nested.jpg"]
    assert array.shape == (2, 32, 32, 3)
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "truncated.jpg" in warned and "notes.png" in warned
    assert _digest(tmp_path) == before  # nothing under the data folder is modified


def test_missing_or_empty_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        find_images(tmp_path / "nowhere")
    (tmp_path / "junk.jpg").write_text("junk")
    with pytest.raises(UserError, match="no readable image"):
        load_folder(tmp_path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    # 12000 x 12000 one-bit pixels: an 18 MB bitmap that compresses to a few kilobytes and
    # would decode to 1.7 GB of float32 RGB.
    Image.new("1", (12000, 12000)).save(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 1_000_000
    with pytest.raises(ImageError, match="too large"):
        read_image(tmp_path / "bomb.png")


def test_parse_size():
    assert images.parse_size("256x384") == (256, 384)
    for bad in ["256", "axb", "250x384", "0x0"]:
        with pytest.raises(UserError):
            images.parse_size(bad)


def test_a_workers_memory_share_limits_the_paintings_it_takes(tmp_path):
    from scans.scan import BASE_MEMORY, check_size
    Image.new("RGB", (300, 200)).save(tmp_path / "p.png")
    check_size(tmp_path / "p.png", None, budget=BASE_MEMORY + 60_000 * 20)  # just enough
    with pytest.raises(ImageError, match="this worker's share of it: pass --jobs 1"):
        check_size(tmp_path / "p.png", None, budget=BASE_MEMORY + 60_000 * 19)


def test_a_lossless_read_refuses_a_bomb_before_decoding(tmp_path):
    from scans.scan import read_scan
    Image.new("RGB", (300, 200)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="too large to decode safely"):
        read_scan(tmp_path / "big.png", max_pixels=1000)
    assert read_scan(tmp_path / "big.png").shape == (200, 300)


def test_a_16_bit_gray_and_alpha_tiff_keeps_its_orientation(tmp_path):
    """PIL cannot open 16-bit gray + alpha TIFFs; read through tifffile, the file's orientation
    tag is honoured all the same (every reader applies it)."""
    import tifffile

    from scans.scan import read_scan
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 65536, (30, 50, 2), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "ga.tif", pixels, photometric="minisblack", extrasamples=[2],
                     extratags=[(274, "H", 1, 6, False)])  # orientation 6: turn clockwise
    scan = read_scan(tmp_path / "ga.tif")
    assert scan.shape == (50, 30)
    assert np.array_equal(scan.colour[..., 0], np.rot90(pixels[..., 0], -1))
    assert np.array_equal(scan.alpha, np.rot90(pixels[..., 1], -1))
    assert any("orientation 6" in note for note in scan.notes)


def test_rounding_to_samples_is_the_whole_array_formula_block_by_block():
    # to_uint8 and from_float round a block of rows at a time in one buffer; every value
    # must be what clip(x * top + 0.5, 0, top) gives the whole array, at any shape or layout
    from utils.images import ROUNDING_BLOCK, from_float, to_uint8
    rng = np.random.default_rng(0)
    tall = (rng.random((2 * ROUNDING_BLOCK // 30 + 7, 10, 3)) * 1.4 - 0.2).astype(np.float32)
    cases = [tall, tall[:, ::3], tall[5:9].astype(np.float64), tall[0, 0],
             np.float32(0.5 / 255), np.zeros((0, 4, 3), np.float32),
             np.full((2, 40000, 3), 0.7, np.float32), [0.25, 1.5, -1.0]]
    for values in cases:
        whole = np.asarray(values)
        assert np.array_equal(to_uint8(values),
                              np.clip(whole * 255.0 + 0.5, 0, 255).astype(np.uint8))
        assert np.array_equal(from_float(whole, np.uint16),
                              np.clip(whole * 65535.0 + 0.5, 0, 65535).astype(np.uint16))
    assert to_uint8(tall).dtype == np.uint8 and to_uint8(tall).shape == tall.shape
