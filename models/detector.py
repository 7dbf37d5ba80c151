"""The damage detector: a small U-Net that marks paint loss in a painting.

Input: `painting` (H, W, 3), RGB in [0, 1], any size divisible by 32 (fully convolutional).
Output: `damage` (H, W, 1), the probability that each pixel is a loss, through a sigmoid.

It is trained on clean paintings with synthetic losses of realistic appearance
(training/paint_loss.py), so what it learns is the look of a loss relative to the paint around it
(lighter, flatter, its own colour, a jagged or soft edge), not one absolute colour; the clean
paintings, whites included, teach it where to stay silent. Strided convolutions go down five
levels (a receptive field of about 200 pixels: the surroundings a loss is judged against);
nearest upsampling and a 3 x 3 convolution, plus the encoder's map of the same size, come back up.
"""
import keras
from keras import layers, ops

from models.optimizers import Adam

DEPTH = 5  # input sides must be divisible by 2 ** DEPTH


@keras.saving.register_keras_serializable(package="paintings")
def bce_dice(truth, probability):
    """Binary cross-entropy per pixel plus the soft Dice loss of each image (Milletari et al.
    2016, eq. 1): cross-entropy alone, with losses a few percent of the pixels, learns to say
    "no damage" everywhere; Dice counts the damaged pixels whatever their share."""
    bce = ops.mean(keras.losses.binary_crossentropy(truth, probability), axis=(1, 2))
    overlap = ops.sum(truth * probability, axis=(1, 2, 3))
    total = ops.sum(truth, axis=(1, 2, 3)) + ops.sum(probability, axis=(1, 2, 3))
    dice = 1.0 - (2.0 * overlap + 1.0) / (total + 1.0)
    return bce + dice


def build_damage_detector(input_shape=(None, None, 3), width=16, max_channels=128):
    """The U-Net; input_shape may leave height and width as None (any multiple of 32)."""
    painting = keras.Input(input_shape, name="painting")
    x = layers.Rescaling(2.0, offset=-1.0)(painting)
    x = layers.Conv2D(width, 3, padding="same", activation="relu", name="stem")(x)
    skips = [x]
    for level in range(1, DEPTH + 1):
        channels = min(width * 2**level, max_channels)
        x = layers.Conv2D(channels, 3, strides=2, padding="same", activation="relu",
                          name=f"down_{level}")(x)
        x = layers.Conv2D(channels, 3, padding="same", activation="relu",
                          name=f"conv_{level}")(x)
        skips.append(x)
    for level in reversed(range(DEPTH)):
        x = layers.UpSampling2D(2, interpolation="nearest")(x)
        x = layers.Conv2D(skips[level].shape[-1], 3, padding="same", name=f"up_{level}")(x)
        x = layers.ReLU()(layers.Add()([x, skips[level]]))
    damage = layers.Conv2D(1, 1, activation="sigmoid", name="damage")(x)
    return keras.Model(painting, damage, name="damage_detector")


def compile_damage_detector(model, lr=1e-3, decay_steps=None, jit_compile=True):
    """Adam on bce_dice, the learning rate falling along a cosine to 5% over decay_steps."""
    if decay_steps:
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps, alpha=0.05)
    model.compile(optimizer=Adam(lr, global_clipnorm=1.0), loss=bce_dice,
                  jit_compile=jit_compile)
    return model
