"""The Fourier inpainter: the Context Encoder (models/context_encoder.py) with residual blocks of
fast Fourier convolutions at its bottleneck (after LaMa, Suvorov et al. 2022), so every
position of the hole sees the whole painting, trained adversarially (models/gan.py) for texture.

Each block: y = LeakyReLU(3 x 3 conv(x) + 1 x 1 conv(FourierUnit(LeakyReLU(1 x 1 conv(x))))),
x + zero-initialised 1 x 1 conv(y): the local and the global (spectral) branch of an FFC, summed
rather than split into channel groups, and a residual whose last layer starts at zero. The
encoder, decoder and fill head have the Context Encoder's names and shapes, so `--init` with a
trained Context Encoder starts this model exactly where that one is (training/loop.py copies
the layers the two share) and the Fourier blocks grow from zero.
"""
import keras
from keras import layers

from models.context_encoder import _conv_bottleneck, _encoder_decoder
from models.layers import FourierUnit
from utils.images import IMAGE_SIZE


def fourier_block(x, name):
    channels = x.shape[-1]
    local = layers.Conv2D(channels, 3, padding="same", name=f"{name}_local")(x)
    spectral = layers.Conv2D(channels // 2, 1, name=f"{name}_in")(x)
    spectral = layers.LeakyReLU(0.2)(spectral)
    spectral = FourierUnit(name=f"{name}_fourier")(spectral)
    spectral = layers.Conv2D(channels, 1, name=f"{name}_out")(spectral)
    y = layers.LeakyReLU(0.2)(layers.Add()([local, spectral]))
    y = layers.Conv2D(channels, 1, kernel_initializer="zeros", name=f"{name}_residual")(y)
    return layers.Add()([x, y])


def build_fourier_inpainter(input_shape=(*IMAGE_SIZE, 3), width=32, depth=5, max_channels=256,
                            blocks=3, name="fourier_inpainter"):
    """The Context Encoder's body with `blocks` Fourier residual blocks after its bottleneck
    (at 1/2**depth of the image; 256 channels by default). Fully convolutional: it fills any
    size whose sides divide by 2**depth."""
    def bottleneck(x):
        x = _conv_bottleneck(x)
        for index in range(blocks):
            x = fourier_block(x, f"fourier_{index}")
        return x
    return _encoder_decoder(input_shape, width, depth, max_channels, bottleneck, name)
