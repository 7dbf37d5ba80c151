"""Custom Keras layers shared by the models; each is registered, so saved models reload safely."""
import math

import keras
from keras import ops

from utils.masks import composite


@keras.saving.register_keras_serializable(package="paintings")
class PyramidFill(keras.layers.Layer):
    """Fill missing pixels from an image pyramid of the known ones ("push-pull", Gortler et al.
    1996, 'The Lumigraph', section 3.3). No weights.

    Push: halve the image repeatedly, averaging only known pixels (colour premultiplied by the
    known fraction). Pull: from the coarsest level back up, a pixel keeps its own average in
    proportion to how much of it was known and takes the upsampled coarser colour for the rest.
    Known pixels come out unchanged; a hole gets a smooth blend of its surroundings, near and far.

    Call with (image, mask): image (B, H, W, C), mask (B, H, W, 1) with 1 = missing.
    """

    def __init__(self, sharpness=16.0, **kwargs):
        super().__init__(**kwargs)
        # A coarse pixel counts as fully known once this many times its known fraction reaches 1:
        # 1 gives the plain masked average; larger values keep more detail from partial cells
        # (16 measured best on the validation paintings: +0.8 dB over 1 on blobs, +0.3 on centre).
        self.sharpness = sharpness

    def call(self, image, mask):
        known = 1.0 - ops.cast(mask, image.dtype)
        colour, weight = image * known, known  # premultiplied colour and known fraction
        levels = []
        height, width = image.shape[1], image.shape[2]
        for _ in range(max(1, math.ceil(math.log2(max(height, width))))):
            levels.append((colour, weight, (height, width)))
            colour = ops.average_pool(colour, 2, 2, padding="same")
            weight = ops.average_pool(weight, 2, 2, padding="same")
            height, width = (height + 1) // 2, (width + 1) // 2
        filled = colour / ops.maximum(weight, 1e-6)
        for colour, weight, size in reversed(levels):
            coarse = ops.image.resize(filled, size, interpolation="bilinear")
            alpha = ops.minimum(weight * self.sharpness, 1.0)
            filled = alpha * colour / ops.maximum(weight, 1e-6) + (1.0 - alpha) * coarse
        return filled

    def compute_output_shape(self, image_shape, mask_shape=None):
        return image_shape

    def get_config(self):
        return {**super().get_config(), "sharpness": self.sharpness}


@keras.saving.register_keras_serializable(package="paintings")
class Logit(keras.layers.Layer):
    """The inverse of the sigmoid, on values clipped into (eps, 1 - eps). No weights."""

    def __init__(self, eps=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.eps = eps

    def call(self, x):
        x = ops.clip(x, self.eps, 1.0 - self.eps)
        return ops.log(x) - ops.log(1.0 - x)

    def get_config(self):
        return {**super().get_config(), "eps": self.eps}


@keras.saving.register_keras_serializable(package="paintings")
class ChannelwiseDense(keras.layers.Layer):
    """Pathak et al. 2016, section 3.1: a channel-wise fully-connected layer. Each channel's
    H x W feature map is fully connected to itself, with weights of its own (C x HW x HW in all);
    channels are not mixed (a 1 x 1 convolution after it does that). Every output position sees
    every input position, at HW / C of the cost of a plain fully-connected layer.
    """

    def build(self, input_shape):
        _, height, width, channels = input_shape
        positions = height * width
        self.kernel = self.add_weight(
            name="kernel", shape=(channels, positions, positions),
            initializer=keras.initializers.RandomNormal(stddev=positions ** -0.5))
        self.bias = self.add_weight(name="bias", shape=(positions, channels), initializer="zeros")

    def call(self, x):
        _, height, width, channels = x.shape
        flat = ops.reshape(x, (-1, height * width, channels))
        mixed = ops.einsum("bpc,cpq->bqc", flat, self.kernel) + self.bias
        return ops.reshape(mixed, (-1, height, width, channels))


@keras.saving.register_keras_serializable(package="paintings")
class Composite(keras.layers.Layer):
    """The generated pixels inside the holes, the input's everywhere else. No weights.

    Call with (generated, image, mask): mask (B, H, W, 1), 1 = missing. The rule is
    utils.masks.composite, so a known pixel (mask exactly 0) comes out bit-identical.
    """

    def call(self, generated, image, mask):
        return composite(generated, image, ops.cast(mask, generated.dtype))

    def compute_output_shape(self, generated_shape, image_shape=None, mask_shape=None):
        return generated_shape


@keras.saving.register_keras_serializable(package="paintings")
class FourierUnit(keras.layers.Layer):
    """LaMa's Fourier unit (Suvorov et al. 2022, after Chi et al. 2020's fast Fourier
    convolution): the feature map's 2-D real FFT, a 1 x 1 convolution (with ReLU) over the real
    and imaginary parts stacked as channels, and the inverse FFT. One 1 x 1 convolution in the
    frequency domain is a filter as wide as the image: every output position sees every input
    position, which is how LaMa continues a regular pattern across a wide hole."""

    def build(self, input_shape):
        channels = input_shape[-1]
        self.conv = keras.layers.Conv2D(2 * channels, 1, name="spectral_conv")
        self.conv.build((None, None, None, 2 * channels))

    def call(self, x):
        import tensorflow as tf
        height, width = tf.shape(x)[1], tf.shape(x)[2]
        spectrum = tf.signal.rfft2d(tf.transpose(x, [0, 3, 1, 2]))  # (B, C, H, W // 2 + 1)
        parts = tf.concat([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=1)
        parts = tf.nn.relu(self.conv(tf.transpose(parts, [0, 2, 3, 1])))
        real, imaginary = tf.split(tf.transpose(parts, [0, 3, 1, 2]), 2, axis=1)
        out = tf.signal.irfft2d(tf.complex(real, imaginary), fft_length=[height, width])
        return tf.transpose(out, [0, 2, 3, 1])

    def compute_output_shape(self, input_shape):
        return input_shape
