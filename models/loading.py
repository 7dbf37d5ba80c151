"""Loading saved models: every .keras file a tool reads goes through load_model_file (safe mode,
uncompiled, the project's layers registered first), then a check that it is the kind of model the
tool needs, so a wrong file is one clear line, not a traceback.

Keras (and TensorFlow) load with the first model, not with this module: a process that never
loads a model (restore.py's main process with --jobs) never starts TensorFlow."""
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from utils.errors import UserError

PRETRAINED = Path(__file__).resolve().parent.parent / "pretrained"  # the shipped models
from utils.images import IMAGE_SIZE
from utils.masks import composite, damage


def load_model_file(path):
    """A saved Keras model (safe mode, uncompiled), or one clear error for a missing, wrong or
    damaged file."""
    import keras

    import models.layers  # noqa: F401  (registers the custom layers before loading)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"model file {path} does not exist" if not path.exists() else
                        f"model {path} is a folder, not a .keras file")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path} is not a Keras model file (a .keras file is a zip archive, as "
                        f"model.save writes it; this one is not)")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a wrong or damaged file
        raise UserError(f"{path} is not a loadable Keras model ({type(error).__name__}: {error})")
    return model


def load_inpainting_model(path):
    """Load a saved model (safe mode) and check that it maps damaged paintings to paintings."""
    model = load_model_file(path)
    shapes = [tuple(t.shape) for t in model.inputs]
    out = tuple(model.outputs[0].shape) if len(model.outputs) == 1 else None
    image_ok = len(shapes[0]) == 4 and shapes[0][-1] == 3
    mask_ok = len(shapes) == 1 or (len(shapes) == 2 and shapes[1][-1] == 1)
    if not (image_ok and mask_ok and out is not None and out[1:] == shapes[0][1:]):
        raise UserError(f"{path} is not an inpainting model: it must take an RGB image (and "
                        f"optionally a 1-channel mask) and return an image of the same shape; "
                        f"it takes {shapes} and returns {[tuple(t.shape) for t in model.outputs]}")
    return model


def model_size(model):
    """The (height, width) a loaded inpainting model works at: its input's, or the working size
    for a fully convolutional model that takes any size."""
    height, width = model.inputs[0].shape[1:3]
    return (height, width) if height and width else IMAGE_SIZE


def predict(model, images, masks, batch_size=8):
    """A model's composite for images (N, H, W, 3) and masks (N, H, W) at the model's size."""
    damaged = damage(images, masks)
    inputs = [damaged, masks[..., None]] if len(model.inputs) == 2 else damaged
    output = model.predict(inputs, batch_size=batch_size, verbose=0)
    return composite(output, images, masks).astype(np.float32)


@lru_cache(maxsize=4)
def load_detector(path):
    """The damage detector model saved by train_detector.py, checked: RGB in, one channel out;
    loaded once per path, however many detectors and paintings use it."""
    model = load_model_file(path)
    shapes = [tuple(t.shape) for t in model.inputs]
    out = [tuple(t.shape) for t in model.outputs]
    if len(shapes) != 1 or shapes[0][-1] != 3 or len(out) != 1 or out[0][-1] != 1:
        raise UserError(f"{path} is not a damage detector: it must take an RGB image and return "
                        f"a 1-channel map; it takes {shapes} and returns {out}")
    return model
