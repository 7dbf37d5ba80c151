"""Damage detection, full-resolution restoration with every method, and restore.py as a user runs
it, bad input included."""
import hashlib

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import damaged_painting, run_script
from detection.detect import Detector, detection_scores, true_damage
from filling.fill import region_sizes, restore_image
from filling.registry import FILLS, METHODS
from models.context_encoder import build_context_encoder
from utils.images import read_image
from utils.masks import damage


def test_detection_finds_synthetic_damage():
    damaged, clean, truth = damaged_painting()
    scores = detection_scores(Detector("white")(damaged), truth)
    assert scores["precision"] > 0.95 and scores["recall"] > 0.9
    # and the clean painting has nothing to find
    assert Detector("white")(clean).sum() == 0
    assert true_damage(clean, damaged).sum() == truth.sum()


def test_detection_scores():
    truth = np.array([1, 1, 0, 0])
    scores = detection_scores(np.array([1, 0, 1, 0]), truth)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.5
    assert scores["iou"] == pytest.approx(1 / 3)


def test_region_sizes_tell_thin_from_wide():
    mask = np.zeros((60, 60), np.float32)
    mask[5, 5:40] = 1  # a crack 1 px wide
    mask[20:50, 20:50] = 1  # a 30 x 30 loss
    sizes = region_sizes(mask)
    assert sizes[5, 10] <= 1.0 and sizes[30, 30] >= 14 and sizes[0, 0] == 0


@pytest.fixture(scope="module")
def small_model():
    return build_context_encoder((64, 96, 3))


@pytest.mark.parametrize("method", [*METHODS, "model"])
def test_every_method_fills_at_full_resolution_keeping_known_pixels(method, small_model):
    # 8-bit values, as read from a file, so "exactly" means bit-identical
    damaged, clean, mask = damaged_painting(shape=(150, 250))
    damaged = (np.round(damaged * 255) / 255).astype(np.float32)
    mask[60:100, 100:160] = 1  # a wide loss too, for auto's learned branch
    damaged = damage(damaged, mask)
    restored = restore_image(damaged, mask, method, small_model)
    assert restored.shape == damaged.shape and restored.dtype == np.float32
    known = mask == 0
    assert np.array_equal(restored[known], damaged[known])
    # the holes are filled with paint, not left white
    assert restored[mask > 0].mean() < 0.95 and np.isfinite(restored).all()
    error = np.abs(restored - clean)[mask > 0].mean()
    assert error < 0.25, f"{method}: mean hole error {error:.3f}"


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _save(path, image):
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    return path


def test_restore_script_writes_outputs_and_keeps_known_pixels(tmp_path):
    damaged, _, truth = damaged_painting(shape=(300, 420))
    painting = _save(tmp_path / "painting.png", damaged)
    before = _md5(painting)
    out = tmp_path / "out"
    result = run_script("restore.py", painting, "-o", out, "--method", "telea", "--detect", "white")
    assert result.returncode == 0, result.stderr
    assert _md5(painting) == before  # the input is never written to
    restored = np.asarray(Image.open(out / "painting_restored.png"))
    original = np.asarray(Image.open(painting))
    mask = np.asarray(Image.open(out / "painting_mask.png")) > 127
    assert restored.shape == original.shape
    assert np.array_equal(restored[~mask], original[~mask])
    assert detection_scores(mask, truth)["f1"] > 0.9
    assert restored[mask].mean() < original[mask].mean() - 30  # the white is gone
    assert (out / "painting_figure.jpg").stat().st_size > 0


@pytest.mark.slow
def test_restore_script_takes_a_folder_and_a_user_mask(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for seed in range(2):
        _save(folder / f"scan{seed}.png", damaged_painting(seed)[0])
    result = run_script("restore.py", folder, "-o", tmp_path / "out", "--method", "ns",
                        "--detect", "white", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*_restored.png")) == [
        "scan0_restored.png", "scan1_restored.png"]

    damaged, _, _ = damaged_painting()
    mask = np.zeros(damaged.shape[:2])
    mask[40:60, 50:90] = 1
    _save(tmp_path / "mask.png", np.repeat(mask[..., None], 3, -1))
    result = run_script("restore.py", folder / "scan0.png", "--mask", tmp_path / "mask.png",
                        "-o", tmp_path / "masked", "--method", "pyramid")
    assert result.returncode == 0, result.stderr
    written = np.asarray(Image.open(tmp_path / "masked" / "scan0_mask.png")) > 127
    assert np.array_equal(written, mask > 0)


@pytest.mark.slow
def test_jobs_restore_a_folder_in_workers_as_one_process_does(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for seed in range(3):
        _save(folder / f"scan{seed}.png", damaged_painting(seed)[0])
    one = run_script("restore.py", folder, "-o", tmp_path / "one", "--jobs", "1")
    two = run_script("restore.py", folder, "-o", tmp_path / "two", "--jobs", "2")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    for seed in range(3):  # the defaults: the learned detector and the model, in each worker
        for ending in ("_restored.png", "_mask.png"):
            name = f"scan{seed}{ending}"
            assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name)\
                .read_bytes(), name
        assert f"scan{seed}.png: filled" in two.stdout
    line = next(x for x in (two.stdout + two.stderr).splitlines() if "worker process" in x)
    peaks = [float(v) for v in line.split("each: ")[1].split(" GB")[0].split(",")]
    # (a worker that starts late may find the three paintings taken)
    assert line.startswith(f"restored by {len(peaks)} worker process(es) of --jobs 2")
    assert 1 <= len(peaks) <= 2
    assert all(0.1 < peak < 8 for peak in peaks)  # each loaded TensorFlow and the models once


def _bad_input_cases(tmp_path):
    painting = _save(tmp_path / "painting.png", damaged_painting()[0])
    (tmp_path / "garbage.jpg").write_bytes(b"not an image at all")
    _save(tmp_path / "small_mask.png", np.zeros((10, 10, 3)))
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    dense.save(tmp_path / "dense.keras")
    (tmp_path / "a_file").write_text("x")
    return {
        "missing file": ([tmp_path / "nowhere.png"], "no such file"),
        "unreadable file": ([tmp_path / "garbage.jpg"], "not a readable image"),
        "mask of another size": ([painting, "--mask", tmp_path / "small_mask.png"],
                                 "10 x 10 pixels but the painting is 180 x 120"),
        "not an inpainting model": ([painting, "--method", tmp_path / "dense.keras"],
                                    "not an inpainting model"),
        "not a damage detector": ([painting, "--detector", tmp_path / "dense.keras"],
                                  "is not a damage detector"),
        "unwritable output folder": ([painting, "-o", tmp_path / "a_file" / "out"],
                                     "cannot write to the output folder"),
    }


def test_bad_input_gets_one_clear_line_and_writes_nothing(tmp_path):
    for name, (args, message) in _bad_input_cases(tmp_path).items():
        out = tmp_path / f"out-{name.replace(' ', '-')}"
        if "-o" not in map(str, args):
            args = [*args, "-o", out]
        inputs = {p: _md5(p) for p in tmp_path.iterdir() if p.is_file()}
        result = run_script("restore.py", *args)
        assert result.returncode == 2, f"{name}: {result.stderr}"
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("error: ") and message in lines[-1], f"{name}: {lines}"
        assert "Traceback" not in result.stderr
        assert not out.exists() or not any(out.iterdir()), f"{name} wrote {list(out.iterdir())}"
        assert all(_md5(p) == digest for p, digest in inputs.items())


def test_restore_at_the_real_model_size_reads_its_own_outputs(tmp_path):
    """restore.py's default auto method with the shipped model on a painting of 384 x 576."""
    damaged, _, _ = damaged_painting(shape=(384, 576))
    damaged[100:180, 200:320] = 1.0  # a wide loss for the learned model
    painting = _save(tmp_path / "big.png", damaged)
    result = run_script("restore.py", painting, "-o", tmp_path / "out", "--detect", "white")
    assert result.returncode == 0, result.stderr
    restored = read_image(tmp_path / "out" / "big_restored.png")
    assert restored.shape == (384, 576, 3)
    assert restored[100:180, 200:320].mean() < 0.9


def _canvas_with_grain(shape=(120, 180), seed=0):
    """A smooth gradient with a fine woven grain (2-4 px), as canvas shows through paint."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    grain = 0.08 * np.sin(x * 1.9) * np.sin(y * 1.6) + rng.normal(0, 0.02, shape)
    base = np.stack([0.3 + x / shape[1] * 0.4, 0.5 + 0 * x, 0.6 - y / shape[0] * 0.3], axis=-1)
    return np.clip(base + grain[..., None], 0, 1).astype(np.float32)


@pytest.mark.parametrize("method, share", [("auto", 0.6), ("brushwork", 0.4), ("grain", 0.4),
                                           ("textured", 0.4)])
def test_fills_with_detail_have_the_paintings_texture_where_smooth_is_smooth(method, share):
    """On a woven grain the fills that copy the painting's detail in come much nearer its
    texture than the smooth fill (texture distance 0.87; auto, at half strength, 0.46; the
    others 0.16-0.24), and stay near the original: the detail is the painting's, not noise."""
    from utils.metrics import hole_psnr, texture_distance
    image = _canvas_with_grain()
    mask = np.zeros(image.shape[:2], np.float32)
    mask[40:80, 60:120] = 1
    smooth = restore_image(damage(image, mask), mask, "smooth")
    detailed = restore_image(damage(image, mask), mask, method)
    assert np.array_equal(detailed[mask == 0], image[mask == 0])
    assert texture_distance(detailed, image, mask) < share * texture_distance(smooth, image, mask)
    assert hole_psnr(detailed, image, mask) > 20


@pytest.mark.parametrize("method", [n for n, f in FILLS.items() if f.depth == "8-bit"])
def test_eight_bit_methods_keep_sixteen_bit_paint_exact(method):
    """FSR and PatchMatch work in 8 bits: the holes are filled from an 8-bit copy, and every
    other 16-bit sample stays as it was."""
    image = _canvas_with_grain(seed=1)
    pixels = np.round(image * 65535).astype(np.uint16)
    pixels[..., 0] |= 1  # odd low bits an 8-bit round trip would lose
    original = pixels.copy()
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[50:70, 40:100] = 1
    mask[10, 10:60] = 1  # a thin crack
    from filling.fill import fill
    fill(pixels, mask, method)
    assert pixels.dtype == np.uint16
    assert np.array_equal(pixels[mask == 0], original[mask == 0])
    error = np.abs(pixels[mask > 0].astype(float) - original[mask > 0]).mean() / 65535
    assert error < 0.1, f"{method}: mean hole error {error:.3f}"


def test_a_wide_loss_is_filled_on_a_window_at_its_own_scale_never_squashed():
    from filling.fill import _window
    size = (256, 384)
    # a 100-px loss on a 2400 x 1600 painting: a window about 3x the loss, at the model's own
    # size (no shrinking at all), not the whole painting shrunk 6x
    top, left, h, w = _window((800, 700, 900, 800), (1600, 2400), size)
    assert (h, w) == (300, 450) and top <= 700 and top + h >= 800 and left <= 800
    # small losses get the model's size, at full resolution
    assert _window((10, 10, 30, 30), (1600, 2400), size)[2:] == size
    # a portrait painting: a portrait window, in the model's aspect turned
    h, w = _window((400, 900, 900, 1400), (2400, 1600), size)[2:]
    assert h > w and abs(h / w - 1.5) < 0.01
    # a loss too large for any window in the model's aspect: the painting's extent
    assert _window((0, 0, 1000, 700), (800, 1000), size)[2:] == (800, 1000)


def test_model_views_keep_the_aspect_and_pad_by_reflection():
    from filling.fill import _model_view
    pixels = np.random.default_rng(0).integers(0, 255, (900, 400, 3), np.uint8)
    holes = np.zeros((900, 400), np.uint8)
    holes[400:500, 150:250] = 1
    image, mask, shape, transposed = _model_view(pixels, holes, (0, 0, 900, 400), (256, 384))
    assert transposed and image.shape == (256, 384, 3) and mask.shape == (256, 384)
    # 400 x 900 turned, shrunk by 384 / 900: 171 x 384, the rest is reflected padding
    assert shape == (171, 384) and abs(shape[1] / shape[0] - 900 / 400) < 0.02
    assert mask[:shape[0]].any() and mask.max() == 1


@pytest.mark.parametrize("method", ["auto", "smooth", "brushwork", "model"])
def test_the_wide_fill_does_not_depend_on_the_tiles(method, small_model, monkeypatch):
    import filling.fill as fill_module
    damaged, _, mask = damaged_painting(shape=(300, 520))
    mask[60:120, 100:200] = 1
    mask[200:260, 380:470] = 1
    damaged = damage(damaged, mask)
    results = []
    for tile in (128, 64, 1000):
        monkeypatch.setattr(fill_module, "TILE", tile)
        results.append(restore_image(damaged, mask, method, small_model))
    # equal up to float rounding (the sparse solve of a thin loss on crops of other sizes):
    # under a hundredth of an 8-bit step
    assert all(np.abs(results[0] - other).max() < 1e-4 for other in results[1:])


def test_a_model_that_returns_nan_is_refused_with_one_line():
    from utils.errors import UserError

    class Broken:
        inputs = [type("T", (), {"shape": (None, 64, 96, 3)})()] * 2

        def __call__(self, inputs, training=False):
            return np.full(inputs[0].shape, np.nan, np.float32)
    damaged, _, mask = damaged_painting(shape=(120, 160))
    mask[40:90, 50:120] = 1
    with pytest.raises(UserError, match="NaN or infinite"):
        restore_image(damage(damaged, mask), mask, "auto", Broken())


def test_the_fill_reports_its_progress_up_to_the_whole(small_model):
    damaged, _, mask = damaged_painting(shape=(300, 520))
    mask[60:120, 100:200] = 1
    shares = []
    from filling.fill import fill
    pixels = (damage(damaged, mask) * 255).astype(np.uint8)
    fill(pixels, mask, "auto", small_model, progress=shares.append)
    assert len(shares) > 2 and shares == sorted(shares) and shares[-1] == 1.0
    assert 0 < shares[0] < 1


def test_the_model_as_a_traced_graph_fills_as_its_eager_call_and_takes_over_once_paid(
        small_model, monkeypatch):
    import filling.fill as fill_module
    damaged, _, mask = damaged_painting(shape=(200, 300))
    mask[60:120, 100:200] = 1
    damaged = damage(damaged, mask)
    monkeypatch.setattr(fill_module, "_GRAPHS", {})
    monkeypatch.setattr(fill_module, "_EAGER_BATCHES", {})
    monkeypatch.setattr(fill_module, "GRAPH_BATCHES", 2)
    eager = restore_image(damaged, mask, "smooth", small_model)
    assert not fill_module._GRAPHS  # one batch: the eager call
    restore_image(damaged, mask, "smooth", small_model)
    assert not fill_module._GRAPHS  # two so far: still cheaper than a trace
    graph = restore_image(damaged, mask, "smooth", small_model)
    assert fill_module._GRAPHS  # the third: traced, and from now on the graph
    assert np.array_equal(eager, graph)


def _two_brushworks(shape=(160, 240), seed=0):
    """A blue half painted in horizontal strokes (rows of 6 px) beside a yellow half in
    vertical ones, with a fine noise: paint whose colour tells which brushwork it has."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    left = x < shape[1] / 2
    strokes = np.where(left, np.sin(y * np.pi / 3), np.sin(x * np.pi / 3)) * 0.12
    base = np.where(left[..., None], [0.2, 0.3, 0.7], [0.8, 0.7, 0.2]).astype(np.float32)
    image = base + (strokes + rng.normal(0, 0.01, shape))[..., None]
    return np.clip(image, 0, 1).astype(np.float32)


def test_brushwork_copies_the_brushwork_of_paint_coloured_like_the_fill():
    from utils.metrics import hole_psnr, texture_distance
    image = _two_brushworks()
    mask = np.zeros(image.shape[:2], np.float32)
    mask[50:110, 70:170] = 1  # a wide loss across both halves
    damaged = damage(image, mask)
    fills = {m: restore_image(damaged, mask, m) for m in ("smooth", "auto", "brushwork")}
    brush = fills["brushwork"]
    assert np.array_equal(brush[mask == 0], image[mask == 0])
    # the strokes of each half continue in it: rows vary where the paint is blue, columns
    # where it is yellow (the fill's colour chose the paint its strokes come from)
    blue, yellow = brush[60:100, 80:110, 2], brush[60:100, 130:160, 0]
    assert blue.mean(axis=1).std() > 2 * blue.mean(axis=0).std()
    assert yellow.mean(axis=0).std() > 2 * yellow.mean(axis=1).std()
    texture = {m: texture_distance(f, image, mask) for m, f in fills.items()}
    assert texture["brushwork"] < 0.6 * texture["smooth"]
    assert texture["brushwork"] < texture["auto"]
    # strokes of the right strength, in no known phase: at most the smooth fill's error again
    # (3 dB; here 16.2 against 18.7), where strokes twice as strong would cost 7 dB
    assert hole_psnr(brush, image, mask) > hole_psnr(fills["smooth"], image, mask) - 3.5


def test_the_detail_of_each_loss_does_not_depend_on_the_order_of_its_neighbours(monkeypatch):
    """Brushwork reads the fill of the holes near a loss: every cell's detail is found on the
    smooth fill before any is added, so two close losses in different cells come out the same
    whichever cell is done first."""
    import filling.fill as fill_module
    image = _two_brushworks()
    mask = np.zeros(image.shape[:2], np.float32)
    mask[40:90, 50:100] = 1
    mask[40:90, 104:160] = 1  # 4 px of paint between them; the cells are 64 px
    monkeypatch.setattr(fill_module, "DETAIL_CELL", 64)
    damaged = damage(image, mask)
    forward = restore_image(damaged, mask, "auto")
    cells = fill_module._cells
    monkeypatch.setattr(fill_module, "_cells", lambda *a: cells(*a)[::-1])
    backward = restore_image(damaged, mask, "auto")
    assert np.array_equal(forward, backward)
