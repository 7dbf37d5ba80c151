"""The Context Encoder and its pyramid fill: shapes, ranges, size, and safe reloading."""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import ROOT
from models.context_encoder import build_context_encoder
from models.layers import PyramidFill
from utils.masks import Blobs, Centre, damage


def test_real_size_model_shapes_range_and_parameter_budget():
    model = build_context_encoder((256, 384, 3))
    assert model.count_params() < 10_000_000
    rng = np.random.default_rng(0)
    image = rng.random((1, 256, 384, 3)).astype(np.float32)
    mask = Centre()((256, 384))[None, ..., None]
    out = model.predict([damage(image, mask), mask], verbose=0)
    assert out.shape == (1, 256, 384, 3) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_untrained_model_starts_from_the_pyramid_fill():
    # The correction's last layer starts at zero, so training begins from the pyramid fill.
    model = build_context_encoder((64, 96, 3))
    image = np.random.default_rng(1).uniform(0.05, 0.95, (2, 64, 96, 3)).astype(np.float32)
    mask = np.stack([Blobs()((64, 96), np.random.default_rng(s)) for s in range(2)])[..., None]
    damaged = damage(image, mask)
    filled = np.asarray(PyramidFill()(damaged, mask))
    out = model.predict([damaged, mask], verbose=0)
    assert np.abs(out - np.clip(filled, 1e-3, 1 - 1e-3)).max() < 1e-4


def test_sizes_not_divisible_by_32_are_refused():
    with pytest.raises(ValueError, match="divisible"):
        build_context_encoder((100, 96, 3))


def test_pyramid_fill_keeps_known_pixels_and_fills_from_surroundings():
    height, width = 32, 48
    ramp = np.tile(np.linspace(0, 1, width, dtype=np.float32), (height, 1))
    image = np.stack([ramp, 1 - ramp, np.full_like(ramp, 0.5)], axis=-1)[None]
    mask = Centre()((height, width))[None, ..., None]
    filled = np.asarray(PyramidFill()(damage(image, mask), mask))
    known = mask[..., 0] == 0
    assert np.allclose(filled[known], image[known], atol=1e-6)
    assert np.allclose(filled[0, ..., 2][mask[0, ..., 0] > 0], 0.5, atol=1e-5)  # constant stays
    hole_red = filled[0, 12:20, 18:30, 0]
    assert 0.25 < hole_red.mean() < 0.75  # between the ramp's values at the hole's two sides
    assert hole_red[:, -1].mean() > hole_red[:, 0].mean()  # and still increasing left to right


@pytest.mark.slow
def test_saved_model_reloads_in_safe_mode_in_a_fresh_process_and_predicts_the_same(tmp_path):
    model = build_context_encoder((64, 96, 3))
    # give the correction non-zero weights, so the reload is checked on the whole network
    for weight in model.weights:
        weight.assign(np.random.default_rng(0).normal(0, 0.02, weight.shape))
    rng = np.random.default_rng(2)
    image = rng.random((2, 64, 96, 3)).astype(np.float32)
    mask = np.stack([Blobs()((64, 96), rng) for _ in range(2)])[..., None]
    expected = model.predict([damage(image, mask), mask], verbose=0)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "image.npy", image)
    np.save(tmp_path / "mask.npy", mask)
    code = f"""
import sys; sys.path.insert(0, {str(ROOT)!r})
import numpy as np, keras
import models.layers
from utils.masks import damage
model = keras.models.load_model({str(tmp_path / 'model.keras')!r}, safe_mode=True)
image, mask = np.load({str(tmp_path / 'image.npy')!r}), np.load({str(tmp_path / 'mask.npy')!r})
np.save({str(tmp_path / 'got.npy')!r}, model.predict([damage(image, mask), mask], verbose=0))
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert np.array_equal(np.load(tmp_path / "got.npy"), expected)
    assert keras.saving.get_registered_object("paintings>PyramidFill") is PyramidFill


@pytest.mark.slow
def test_the_runs_inference_copy_predicts_like_the_trained_model(trained_run, tmp_path):
    from training.run import save_inference_model
    state = json.loads((trained_run / "checkpoints" / "state.json").read_text())
    model = keras.models.load_model(trained_run / "checkpoints" / state["checkpoint"])
    assert int(model.optimizer.iterations) > 0  # trained, with its optimizer's state
    rng = np.random.default_rng(3)
    image = rng.random((4, 64, 96, 3)).astype(np.float32)
    mask = np.stack([Blobs()((64, 96), rng) for _ in range(4)])[..., None]
    save_inference_model(model, tmp_path / "model.keras")
    copy = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    assert not copy.compiled  # inference only: no optimizer state, a third of the size
    np.testing.assert_array_equal(copy.predict([damage(image, mask), mask], verbose=0),
                                  model.predict([damage(image, mask), mask], verbose=0))
