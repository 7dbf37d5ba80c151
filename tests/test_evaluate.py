"""evaluate.py and its metrics: hole-only measures, every method, deterministic tables."""
import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

import evaluate
from conftest import write_paintings
from filling.fill import classical
from filling.registry import CLASSICAL
from models.context_encoder import build_context_encoder
from models.loading import load_inpainting_model, predict
from utils.errors import UserError
from utils.masks import Blobs
from utils.metrics import hole_l1, hole_psnr, hole_sharpness, hole_ssim


def test_metrics_look_only_at_the_holes():
    original = np.full((16, 16, 3), 0.5, np.float32)
    mask = np.zeros((16, 16), np.float32)
    mask[4:8, 4:8] = 1
    result = original.copy()
    result[mask > 0] += 0.1
    result[0, 0] = 0.0  # an error outside the hole does not count
    assert hole_psnr(result, original, mask) == pytest.approx(20.0, abs=1e-4)
    assert hole_l1(result, original, mask) == pytest.approx(0.1, abs=1e-6)
    assert hole_psnr(original, original, mask) == 100.0
    assert hole_ssim(original, original, mask) == pytest.approx(1.0)
    assert hole_ssim(result, original, mask) < 1.0


def test_sharpness_is_one_for_the_original_and_low_for_a_blur():
    rng = np.random.default_rng(0)
    original = rng.random((32, 32, 3)).astype(np.float32)
    mask = np.zeros((32, 32), np.float32)
    mask[8:24, 8:24] = 1
    assert hole_sharpness(original, original, mask) == pytest.approx(1.0)
    flat = original.copy()
    flat[mask > 0] = original[mask > 0].mean(axis=0)
    assert hole_sharpness(flat, original, mask) < 0.2
    noisier = np.clip(original + rng.normal(0, 0.3, original.shape), 0, 1).astype(np.float32)
    assert hole_sharpness(noisier, original, mask) > 1.0


@pytest.mark.parametrize("method", CLASSICAL)
def test_every_classical_method_fills_the_hole_and_keeps_known_pixels(method):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:48, 0:64] / 64
    image = np.stack([x, y, 0.5 + 0 * x], axis=-1).astype(np.float32)
    mask = Blobs()((48, 64), rng)
    result = classical(image, mask, method)
    known = mask == 0
    assert np.array_equal(result[known], image[known])
    # a smooth image is filled far better than the white the holes were painted with
    assert hole_psnr(result, image, mask) > hole_psnr(np.ones_like(image), image, mask) + 10


def test_model_loading_refuses_what_is_not_an_inpainting_model(tmp_path):
    import keras
    classifier = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                   keras.layers.Dense(2)])
    classifier.save(tmp_path / "classifier.keras")
    with pytest.raises(UserError, match="not an inpainting model"):
        load_inpainting_model(tmp_path / "classifier.keras")
    # a text file named .keras exists: it must not be called missing
    (tmp_path / "junk.keras").write_text("junk")
    with pytest.raises(UserError, match="is not a Keras model file"):
        load_inpainting_model(tmp_path / "junk.keras")
    import zipfile
    with zipfile.ZipFile(tmp_path / "broken.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
    with pytest.raises(UserError, match="not a loadable Keras model"):
        load_inpainting_model(tmp_path / "broken.keras")
    with pytest.raises(UserError, match="does not exist"):
        load_inpainting_model(tmp_path / "missing.keras")


def test_a_model_of_any_input_size_works_at_the_working_size():
    """A fully convolutional model whose input is (None, None, 3) runs at 256 x 384."""
    import keras

    from filling.fill import restore_image
    from models.loading import model_size
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same",
                                                    activation="sigmoid")(inputs))
    assert model_size(model) == (256, 384)
    image = np.random.default_rng(0).random((100, 150, 3)).astype(np.float32)
    mask = np.zeros((100, 150), np.float32)
    mask[30:70, 40:110] = 1
    restored = restore_image(image, mask, "model", model)
    assert np.array_equal(restored[mask == 0], image[mask == 0])
    assert np.isfinite(restored).all() and not np.array_equal(restored, image)


def test_bad_options_stop_before_the_evaluation(tmp_path):
    from conftest import run_script
    (tmp_path / "a_file").write_text("x")
    for args, message in ((["--limit", "0"], "must be above 0"),
                          (["--out", tmp_path / "a_file"], "is a file")):
        result = run_script("evaluate.py", "--methods", "telea", *args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and lines[-1].startswith("error: ") and message in lines[-1]
        assert "evaluating" not in result.stderr  # stopped before any work


def test_finished_results_are_never_lost(tmp_path, monkeypatch):
    """If the output folder cannot be written at the end, the results go elsewhere, whole, and
    the run says so in its one error line."""
    from conftest import error_line, run_script
    write_paintings(tmp_path / "clean", 2, size=(64, 96))
    real = evaluate.write_csv

    def folder_gone(path, rows):
        if Path(path).parent == tmp_path / "out":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, rows)
    monkeypatch.setattr(evaluate, "write_csv", folder_gone)
    line = error_line(run_script(
        "evaluate.py", "--data", tmp_path / "clean", "--methods", "telea", "--masks", "centre",
        "--seeds", "0", "--image-size", "64x96", "--out", tmp_path / "out"))
    assert "Permission denied" in line and "per_image.csv" in line
    fallback = Path(line.split("results are in ")[1].split(" instead")[0])
    assert (fallback / "results.csv").is_file() and (fallback / evaluate.RECORD).is_file()
    shutil.rmtree(fallback)
    assert not list((tmp_path / "out").iterdir())


def test_a_hole_that_is_not_there_is_not_measured():
    """No hole pixel: every measure None (never NaN, never a perfect 100 dB); a result holding
    NaN scores NaN, not 100 dB; a painting narrower than SSIM's window is measured with a
    smaller one, or not at all under 3 pixels."""
    original = np.full((16, 16, 3), 0.5, np.float32)
    none = np.zeros((16, 16), np.float32)
    for metric in (hole_psnr, hole_ssim, hole_l1, hole_sharpness):
        assert metric(original, original, none) is None
    mask = none.copy()
    mask[4:8, 4:8] = 1
    broken = original.copy()
    broken[mask > 0] = np.nan
    assert np.isnan(hole_psnr(broken, original, mask))
    assert hole_ssim(original[:4, :4], original[:4, :4], mask[4:8, 4:8]) == pytest.approx(1.0)
    assert hole_ssim(original[:2, :9], original[:2, :9], mask[4:6, 4:13]) is None


@pytest.mark.slow
def test_evaluate_compares_every_method_deterministically(tmp_path):
    write_paintings(tmp_path / "clean", 2, size=(64, 96))
    build_context_encoder((64, 96, 3)).save(tmp_path / "ce.keras")
    args = ["--data", str(tmp_path / "clean"), "--image-size", "64x96", "--seeds", "0",
            "--models", str(tmp_path / "ce.keras")]
    first = evaluate.main(evaluate.parse_args([*args, "--out", str(tmp_path / "a")]))
    second = evaluate.main(evaluate.parse_args([*args, "--out", str(tmp_path / "b")]))
    methods = [*CLASSICAL, "ce"]
    assert set(first) == {(m, k) for m in methods for k in ["holes", "centre", "blobs"]}
    for key, values in first.items():
        assert np.isfinite(values["psnr"]) and 0 < values["ssim"] <= 1 and values["ms"] > 0
        assert 0 <= values["texture"] < 20
        for metric in ("psnr", "texture", "l1"):
            assert values[metric] == second[key][metric]
    # the untrained encoder starts from the pyramid fill, so it scores like it
    for kind in ["centre", "blobs"]:
        assert abs(first[("ce", kind)]["psnr"] - first[("pyramid", kind)]["psnr"]) < 0.2
    with open(tmp_path / "a" / "per_image.csv") as handle:
        assert len(list(csv.DictReader(handle))) == len(methods) * 2 * 3  # paintings, kinds
    for name in ["results.csv", "differences.csv", "psnr.png", "examples.png",
                 "large_holes.png"]:
        assert (tmp_path / "a" / name).stat().st_size > 0
    # the large holes are shown at their own size: a crop of the centre block and a margin
    from PIL import Image
    assert Image.open(tmp_path / "a" / "large_holes.png").height > 16 + 2 * 16


def test_predict_keeps_known_pixels_at_the_real_size():
    model = build_context_encoder()
    rng = np.random.default_rng(0)
    images = rng.random((2, 256, 384, 3)).astype(np.float32)
    masks = np.stack([Blobs()((256, 384), rng) for _ in range(2)])
    result = predict(model, images, masks)
    known = masks == 0
    assert np.array_equal(result[known], images[known])


def test_smooth_uses_the_model_for_wide_holes_or_the_mean_of_pyramid_and_telea(tmp_path):
    write_paintings(tmp_path / "clean", 2, size=(64, 96))
    build_context_encoder((64, 96, 3)).save(tmp_path / "ce.keras")
    summary = evaluate.main(evaluate.parse_args([
        "--data", str(tmp_path / "clean"), "--image-size", "64x96", "--seeds", "0",
        "--methods", "ns", "smooth", "auto", "--masks", "centre", "--models",
        str(tmp_path / "ce.keras"), "--out", str(tmp_path / "out")]))
    # the centre block (16 x 24 here) is wide: smooth gives the model's fill, not Navier-Stokes'
    assert summary[("smooth", "centre")]["psnr"] == pytest.approx(
        summary[("ce", "centre")]["psnr"], abs=0.01)
    assert summary[("smooth", "centre")]["psnr"] != summary[("ns", "centre")]["psnr"]
    # auto adds the painting's grain to it: nearer the original's texture
    assert summary[("auto", "centre")]["texture"] < summary[("smooth", "centre")]["texture"]
    # without a model, the mean of the pyramid fill and Telea's, exactly (the enlargement and the
    # blend are identities at the painting's own size)
    from filling.fill import restore_image
    from utils.images import load_folder
    images, _ = load_folder(tmp_path / "clean", (64, 96))
    mask = np.zeros((64, 96), np.float32)
    mask[16:32, 24:48] = 1
    expected = (classical(images[0], mask, "pyramid") + classical(images[0], mask, "telea")) / 2
    assert np.allclose(restore_image(images[0], mask, "smooth"), expected, atol=1e-5)


def test_paired_differences_and_their_intervals():
    rng = np.random.default_rng(0)
    rows = []
    for image in range(20):
        base = rng.normal(20, 2)
        for seed in range(3):
            for method, shift in (("telea", 0.0), ("ns", -0.5), ("better", 1.0), ("same", 0.0)):
                rows.append({"method": method, "mask": "centre", "seed": seed, "image": image,
                             "psnr": base + shift + rng.normal(0, 0.1)})
    differences = evaluate.paired_differences(rows)
    mean, low, high, reference = differences[("better", "centre")]
    assert reference == "telea" and 0.9 < mean < 1.1 and 0.8 < low < mean < high < 1.2
    mean, low, high, _ = differences[("same", "centre")]
    assert low < 0 < high  # no measurable difference: the interval holds zero
    assert differences[("ns", "centre")][2] < 0  # worse by the whole interval
    assert differences[("telea", "centre")][:3] == (0.0, 0.0, 0.0)
    table = "\n".join(evaluate._differences_table(differences))
    assert "centre (vs telea)" in table and "(reference)" in table


def test_texture_is_reported_beside_psnr_against_the_same_reference(tmp_path):
    """Every table and CSV that has a method's PSNR has its texture distance; the texture's
    paired difference is against PSNR's reference (the best classical by PSNR, even where
    another has the lower texture), and a texture not measured is n/a and an empty cell."""
    rng = np.random.default_rng(0)
    rows = []
    for image in range(12):
        for seed in range(2):
            for method, psnr, texture in (("telea", 20.0, 2.0), ("patchmatch", 19.0, 1.0),
                                          ("grainy", 21.0, 1.5)):
                rows.append({"method": method, "mask": "centre", "seed": seed, "image": image,
                             "psnr": psnr + rng.normal(0, 0.1),
                             "texture": texture + rng.normal(0, 0.05), "ssim": 0.5, "l1": 0.1,
                             "ms": 1.0})
                rows.append({"method": method, "mask": "holes", "seed": seed, "image": image,
                             "psnr": psnr + 10, "texture": None, "ssim": 0.9, "l1": 0.01,
                             "ms": 1.0})
    summary = evaluate.summarise(rows)
    assert summary[("grainy", "centre")]["texture"] == pytest.approx(1.5, abs=0.05)
    differences = evaluate.paired_differences(rows)
    texture = evaluate.texture_differences(rows, differences)
    mean, low, high, reference = texture[("grainy", "centre")]
    assert reference == "telea" and mean == pytest.approx(-0.5, abs=0.05) and low < mean < high < 0
    assert texture[("patchmatch", "centre")][0] == pytest.approx(-1.0, abs=0.05)
    assert ("grainy", "holes") in differences and ("grainy", "holes") not in texture
    table = evaluate.markdown(summary, differences, texture)
    assert "| hole PSNR (dB) | texture (x100, lower better) |" in table
    assert "| telea | holes | 30.00 | n/a |" in table
    assert "| texture distance (x100, lower better) | centre | holes |" in table
    assert "centre (vs telea)" in table.split("texture distance minus")[1]
    evaluate.write_csv(tmp_path / "differences.csv",
                       evaluate._difference_rows(differences, texture))
    with open(tmp_path / "differences.csv") as handle:
        written = {(r["method"], r["mask"]): r for r in csv.DictReader(handle)}
    assert float(written[("grainy", "centre")]["texture_difference"]) == pytest.approx(mean)
    assert written[("grainy", "holes")]["texture_difference"] == ""
