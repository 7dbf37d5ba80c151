"""The Context Encoder (after Pathak et al. 2016, 'Context Encoders: Feature Learning by
Inpainting'): a convolutional encoder-decoder that paints the missing part of a painting.

Inputs: `damaged` (H, W, 3), the painting with missing pixels painted white, and `mask` (H, W, 1),
1 = missing. Output: the whole image, RGB in [0, 1] through a sigmoid.

Departures from the paper, and why:
- the network starts from a weightless image-pyramid fill of the holes (`PyramidFill`) and learns
  a correction to it, in logit space, whose last layer starts at zero: an untrained model already
  fills as well as the pyramid, and training only has to improve on it. On the 2-core CPU this
  project trains on, a plain encoder-decoder trained for 45 minutes fills holes worse than a flat
  mean colour (see docs/models.md);
- the decoder upsamples with nearest neighbours and 3 x 3 convolutions instead of the paper's
  up-convolutions: no checkerboard artifacts, and much faster per FLOP here (see `bench/`);
- the decoder adds the encoder's feature map of the same size (a U-Net-style skip), so edges that
  run into a hole are continued rather than blurred.
"""
import keras
from keras import layers

from models.layers import ChannelwiseDense, Logit, PyramidFill
from models.optimizers import Adam
from utils.images import IMAGE_SIZE


def _encoder_decoder(input_shape, width, depth, max_channels, bottleneck, name):
    """The shared body: pyramid fill -> strided encoder -> bottleneck(x) -> upsampling decoder
    with skips -> a zero-initialised correction of the fill's logits -> sigmoid."""
    height, image_width, channels = input_shape
    if height % 2**depth or image_width % 2**depth:
        raise ValueError(f"input height and width must be divisible by {2**depth}, got {input_shape}")
    damaged = keras.Input(input_shape, name="damaged")
    mask = keras.Input((height, image_width, 1), name="mask")

    filled = PyramidFill(name="pyramid_fill")(damaged, mask)
    x = layers.Concatenate(name="fill_and_mask")([filled, mask])
    skips = []
    for level in range(depth):
        x = layers.Conv2D(min(width * 2**level, max_channels), 4, strides=2, padding="same",
                          name=f"encode_{level}")(x)
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
    x = bottleneck(x)
    for level in reversed(range(depth)):
        # Nearest upsampling then a 3 x 3 convolution, not a transposed convolution: no
        # checkerboard artifacts (Odena et al. 2016), and on this CPU 2.25x the arithmetic of a
        # 4 x 4 transposed convolution runs in about 1.1x its time (oneDNN's fast path).
        x = layers.UpSampling2D(2, interpolation="nearest")(x)
        x = layers.Conv2D(skips[level - 1].shape[-1] if level else width, 3, padding="same",
                          name=f"decode_{level}")(x)
        if level:
            x = layers.Add()([x, skips[level - 1]])
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Concatenate()([x, filled, mask])
    correction = layers.Conv2D(channels, 3, padding="same", kernel_initializer="zeros",
                               name="correction")(x)
    logits = layers.Add()([Logit(name="fill_logit")(filled), correction])
    output = layers.Activation("sigmoid", name="output")(logits)
    return keras.Model([damaged, mask], output, name=name)


def _conv_bottleneck(x):
    x = layers.Conv2D(x.shape[-1], 3, padding="same", name="bottleneck")(x)
    return layers.LeakyReLU(0.2)(x)


def build_context_encoder(input_shape=(*IMAGE_SIZE, 3), width=32, depth=5, max_channels=256,
                          name="context_encoder"):
    """A Context Encoder for images of input_shape (height and width divisible by 2**depth).

    width: channels of the first encoder layer, doubling at each of the depth halvings up to
    max_channels. Defaults: 3.3 M parameters, 6.8 GFLOP per 256 x 384 image forward.
    """
    return _encoder_decoder(input_shape, width, depth, max_channels, _conv_bottleneck, name)


def build_context_encoder2(input_shape=(*IMAGE_SIZE, 3), width=32, depth=5, max_channels=256,
                           fc_channels=128, name="context_encoder2"):
    """The Context Encoder with a fully-connected bottleneck that joins distant regions.

    After the plain encoder's 3 x 3 bottleneck, a residual branch projects to fc_channels (1 x 1
    convolution), connects every position of each channel's 8 x 12 map to every other with
    Pathak et al.'s channel-wise fully-connected layer (section 3.1; `ChannelwiseDense`), and mixes
    the channels back with a 1 x 1 convolution. At 256 x 384 the branch adds 1.25 M parameters
    (128 x 96 x 96 in the channel-wise layer) to the encoder's 3.3 M: 4.6 M in all, where a
    naive Dense layer across the flattened 8 x 12 x 256 map would need 604 M (and across the
    original's 49,152-wide map, 2.4 billion).
    """
    def bottleneck(x):
        x = _conv_bottleneck(x)
        branch = layers.Conv2D(fc_channels, 1, name="fc_in")(x)
        branch = layers.LeakyReLU(0.2)(branch)
        branch = ChannelwiseDense(name="channelwise_fc")(branch)
        branch = layers.LeakyReLU(0.2)(branch)
        branch = layers.Conv2D(x.shape[-1], 1, name="fc_out")(branch)
        return layers.LeakyReLU(0.2)(layers.Add()([x, branch]))
    return _encoder_decoder(input_shape, width, depth, max_channels, bottleneck, name)


def compile_context_encoder(model, lr=1e-3, decay_steps=None, jit_compile=True):
    """Adam and mean squared error, as in the original; per-pixel sample weights weight the holes.

    The learning rate falls along a cosine to 5% over decay_steps (then stays there), and the
    gradient norm is clipped at 1: at 1e-3 without clipping, one bad batch once drove the sigmoid
    into saturation, where it never recovered.
    """
    if decay_steps:
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps, alpha=0.05)
    model.compile(optimizer=Adam(lr, global_clipnorm=1.0),
                  loss="mean_squared_error", jit_compile=jit_compile)
    return model
