"""The benchmark's FLOP count, on layers small enough to count by hand (timings are not tested)."""
import importlib.util

import keras

from conftest import ROOT
from models.layers import ChannelwiseDense

spec = importlib.util.spec_from_file_location("bench", ROOT / "bench" / "bench_context_encoder.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_forward_flops_counts_convolutions_and_channelwise_dense_layers():
    inputs = keras.Input((8, 12, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)  # out 4 x 6 x 4
    x = ChannelwiseDense()(x)  # 4 channels, each 24 x 24 positions
    x = keras.layers.UpSampling2D(2)(x)  # no arithmetic counted
    x = keras.layers.Conv2D(5, 3, padding="same")(x)  # out 8 x 12 x 5, from 4 channels
    model = keras.Model(inputs, x)
    expected = 2 * (4 * 6 * 3 * 4 * 9) + 2 * (4 * 24 * 24) + 2 * (8 * 12 * 4 * 5 * 9)
    assert bench.forward_flops(model) == expected
