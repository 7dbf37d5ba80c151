"""Inpainting methods behind one call: classical (OpenCV, OpenCV-contrib's frequency-selective
reconstruction, PatchMatch, scikit-image), the pyramid fill, and saved Keras models. Every method
takes float RGB images in [0, 1] and masks with 1 = missing, and returns the composite: known
pixels exactly as they were."""
from pathlib import Path

import numpy as np

from utils.images import UserError, to_uint8
from utils.masks import composite, damage

CLASSICAL = ("telea", "ns", "biharmonic", "fsr", "patchmatch", "pyramid")
PATCH_SIZE = 5  # PatchMatch's patch radius: 11 x 11 patches follow a painting's brushwork
TEXTURE_SIGMA = 1.5  # pixels: finer than this a textured fill takes from PatchMatch


def opencv_inpaint(pixels, holes, method, radius=3):
    """OpenCV's Telea or Navier-Stokes fill of pixels (H, W, C) of 8- or 16-bit samples, in
    their own type. OpenCV fills colour only in 8 bits, so 16-bit samples are filled channel by
    channel as float32 (its float fill expects values of that size: in [0, 1] Telea returns
    noise), keeping the finer steps."""
    import cv2
    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    holes = (np.asarray(holes) > 0.5).astype(np.uint8)
    if pixels.dtype == np.uint8:
        return cv2.inpaint(np.ascontiguousarray(pixels), holes, radius, flag).reshape(
            pixels.shape)
    channels = [cv2.inpaint(pixels[..., c].astype(np.float32), holes, radius, flag)
                for c in range(pixels.shape[2])]
    return np.clip(np.rint(np.stack(channels, axis=-1)), 0, 65535).astype(pixels.dtype)


def _opencv(method):
    def fill(image, mask, radius=3):
        return opencv_inpaint(to_uint8(image), mask, method, radius).astype(np.float32) / 255.0
    return fill


def _biharmonic(image, mask):
    from skimage.restoration import inpaint_biharmonic
    return inpaint_biharmonic(image, mask > 0.5, channel_axis=-1).astype(np.float32)


def fsr_fill(image, mask):
    """OpenCV-contrib's frequency-selective reconstruction (the fast variant) of a float RGB image.
    It models each block around a hole as a sparse sum of Fourier basis functions fitted to the
    known pixels; it works in 8 bits only (16-bit and float samples come out as noise), and its
    mask marks the *known* pixels, the opposite of everything else here."""
    import cv2
    pixels = to_uint8(image)
    known = (np.asarray(mask) <= 0.5).astype(np.uint8)
    filled = np.zeros_like(pixels)
    cv2.xphoto.inpaint(pixels, known, filled, cv2.xphoto.INPAINT_FSR_FAST)
    return filled.astype(np.float32) / 255.0


def patchmatch_fill(image, mask, patch_size=PATCH_SIZE, seed=0):
    """PatchMatch (Barnes et al. 2009, the PyPatchMatch package): each hole pixel is copied from
    the known patch that best matches its surroundings, so the fill has the painting's own texture.
    8-bit RGB only; the library's random search is seeded here, so equal inputs fill equally."""
    from patchmatch import patch_match
    holes = (np.asarray(mask) > 0.5).astype(np.uint8)
    if holes.all():
        raise ValueError("PatchMatch needs some known pixels to copy from")
    patch_match.set_random_seed(seed)
    filled = patch_match.inpaint(to_uint8(image), holes, patch_size=patch_size)
    return filled.astype(np.float32) / 255.0


def textured(smooth, patch, sigma=TEXTURE_SIGMA):
    """The low frequencies of a smooth fill with the high frequencies (finer than sigma pixels) of
    a PatchMatch fill of the same holes: the smooth fill's colour and structure, which score best,
    with the painting's own grain, which a smooth fill averages away."""
    import cv2

    def low(values):
        return cv2.GaussianBlur(values, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return low(smooth) + patch - low(patch)


def _halve(values):
    """2 x 2 average pooling of (H, W, C) with 'same' padding, where edge cells average only the
    pixels they hold (TensorFlow's average_pool): replicating the last row or column makes the
    plain 2 x 2 mean exactly that."""
    import cv2
    height, width = values.shape[:2]
    if height % 2 or width % 2:
        values = cv2.copyMakeBorder(values, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    half = cv2.resize(values, ((width + 1) // 2, (height + 1) // 2),
                      interpolation=cv2.INTER_AREA)
    return half.reshape(half.shape[:2] + (-1,))


def pyramid_fill(image, mask, sharpness=16.0):
    """The push-pull pyramid fill of one image (H, W, C) of any size, in NumPy: the same
    computation as the PyramidFill layer (models/layers.py, which documents it) that the
    learned models start from, without TensorFlow's overhead for one large image."""
    import cv2
    image = np.asarray(image, np.float32)
    known = 1.0 - (np.asarray(mask) > 0.5).astype(np.float32)[..., None]
    colour, weight = image * known, known
    levels = []
    for _ in range(max(1, int(np.ceil(np.log2(max(image.shape[:2])))))):
        levels.append((colour, weight))
        colour, weight = _halve(colour), _halve(weight)
    filled = colour / np.maximum(weight, 1e-6)
    for colour, weight in reversed(levels):
        coarse = cv2.resize(filled, (colour.shape[1], colour.shape[0]),
                            interpolation=cv2.INTER_LINEAR)
        coarse = coarse.reshape(colour.shape[:2] + (-1,))
        alpha = np.minimum(weight * sharpness, 1.0)
        filled = alpha * colour / np.maximum(weight, 1e-6) + (1.0 - alpha) * coarse
    return filled


_METHODS = {"telea": _opencv("telea"), "ns": _opencv("ns"), "biharmonic": _biharmonic,
            "fsr": fsr_fill, "patchmatch": patchmatch_fill, "pyramid": pyramid_fill}


def classical(image, mask, method, **options):
    """Fill one image's holes with a classical method (options: radius for telea and ns); known
    pixels are kept exactly."""
    return composite(_METHODS[method](image, mask, **options), image, mask).astype(np.float32)


def load_model_file(path):
    """A saved Keras model (safe mode, uncompiled), or one clear error for a missing, wrong or
    damaged file."""
    import keras
    import models.layers  # noqa: F401  (registers the custom layers before loading)
    import zipfile
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
    from utils.images import IMAGE_SIZE
    height, width = model.inputs[0].shape[1:3]
    return (height, width) if height and width else IMAGE_SIZE


def predict(model, images, masks, batch_size=8):
    """A model's composite for images (N, H, W, 3) and masks (N, H, W) at the model's size."""
    damaged = damage(images, masks)
    inputs = [damaged, masks[..., None]] if len(model.inputs) == 2 else damaged
    output = model.predict(inputs, batch_size=batch_size, verbose=0)
    return composite(output, images, masks).astype(np.float32)
