"""The benchmark's FLOP count, on layers small enough to count by hand (timings are not tested)."""
import importlib.util

import keras

from conftest import ROOT

spec = importlib.util.spec_from_file_location("bench", ROOT / "bench" / "bench_context_encoder.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_forward_flops_counts_convolutions_and_transposed_convolutions():
    inputs = keras.Input((8, 12, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)  # out 4 x 6 x 4
    x = keras.layers.Conv2DTranspose(5, 4, strides=2, padding="same")(x)  # in 4 x 6 x 4
    model = keras.Model(inputs, x)
    expected = 2 * (4 * 6 * 3 * 4 * 9) + 2 * (4 * 6 * 4 * 5 * 16)
    assert bench.forward_flops(model) == expected
