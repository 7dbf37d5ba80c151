"""Context Encoder 2: its fully-connected bottleneck, saving, and its training script."""
import keras
import numpy as np
import pytest

import models.layers  # noqa: F401  (registers the custom layers the saved models use)
from conftest import run_script, write_paintings
from models.context_encoder import build_context_encoder, build_context_encoder2
from models.layers import ChannelwiseDense
from utils.masks import Centre, damage


@pytest.mark.parametrize("shape", [(256, 384, 3), (64, 96, 3)])
def test_shapes_and_range(shape):
    model = build_context_encoder2(shape)
    image = np.random.default_rng(0).random((1, *shape)).astype(np.float32)
    mask = Centre()(shape[:2])[None, ..., None]
    out = model.predict([damage(image, mask), mask], verbose=0)
    assert out.shape == (1, *shape) and 0.0 <= out.min() and out.max() <= 1.0
    if shape[0] == 256:
        assert model.count_params() < 10_000_000
        assert model.get_layer("channelwise_fc").kernel.shape == (128, 96, 96)


def _corner_effect(model):
    """How much the bottom-right output pixels move when the top-left sixteenth of the input does."""
    # Freshly initialised layers pass a distant change on only faintly; larger weights on the
    # zero-initialised correction and on the long-range layer make it loud enough to measure.
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.name in ("correction", "channelwise_fc"):
            layer.kernel.assign(rng.normal(0, 1.0, layer.kernel.shape))
    rng = np.random.default_rng(1)
    image = rng.random((1, 256, 384, 3)).astype(np.float32)
    changed = image.copy()
    changed[:, :64, :96] = 1.0 - changed[:, :64, :96]
    mask = np.zeros((1, 256, 384, 1), np.float32)
    mask[:, -8:, -8:] = 1  # the far corner is a hole: its output comes from the network
    before = model.predict([damage(image, mask), mask], verbose=0)
    after = model.predict([damage(changed, mask), mask], verbose=0)
    return np.abs(after - before)[0, -4:, -4:].max()


def test_the_bottleneck_joins_opposite_corners():
    # The plain encoder's receptive field does not reach across the painting; the channel-wise
    # fully-connected layer does.
    keras.utils.set_random_seed(0)
    assert _corner_effect(build_context_encoder2()) > 1e-5  # hundreds of float32 steps
    assert _corner_effect(build_context_encoder()) == 0.0


def test_channelwise_dense_mixes_positions_not_channels():
    layer = ChannelwiseDense()
    x = np.zeros((1, 2, 3, 4), np.float32)
    x[0, 0, 0, 1] = 1.0  # one position, one channel
    out = np.asarray(layer(x))
    assert np.abs(out[0, 1, 2, 1]) > 0  # reaches the opposite position in the same channel
    assert np.all(out[..., [0, 2, 3]] == 0)  # and no other channel


def test_reloads_in_safe_mode_and_predicts_the_same(tmp_path):
    model = build_context_encoder2((64, 96, 3))
    for weight in model.weights:
        weight.assign(np.random.default_rng(0).normal(0, 0.02, weight.shape))
    image = np.random.default_rng(1).random((2, 64, 96, 3)).astype(np.float32)
    mask = np.stack([Centre()((64, 96))] * 2)[..., None]
    model.save(tmp_path / "ce2.keras")
    again = keras.models.load_model(tmp_path / "ce2.keras", safe_mode=True)
    np.testing.assert_array_equal(again.predict([damage(image, mask), mask], verbose=0),
                                  model.predict([damage(image, mask), mask], verbose=0))


@pytest.mark.slow
def test_script_runs_end_to_end_on_tiny_images(tmp_path):
    data = tmp_path / "data"
    write_paintings(data / "train", 4, seed=1)
    write_paintings(data / "val", 2, seed=2)
    # compiled with XLA, as by default: the suite's one run of the Context Encoder's step under it
    result = run_script("train_context_encoder2.py", "--data", data, "--epochs", "1",
                        "--steps-per-epoch", "2", "--batch-size", "2", "--image-size", "64x96",
                        "--name", "ce2", "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0, result.stderr
    run = tmp_path / "runs" / "ce2"
    assert (run / "samples" / "epoch_0001.png").exists() and (run / "log.csv").exists()
    model = keras.models.load_model(run / "model.keras", safe_mode=True)
    assert model.name == "context_encoder2"
    assert '"model": "context_encoder2"' in (run / "config.json").read_text()
    help_text = run_script("train_context_encoder2.py", "--help").stdout
    assert "channel-wise" in help_text and "--resume" in help_text
