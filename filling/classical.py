"""The classical fills of one image: OpenCV (Telea, Navier-Stokes), OpenCV-contrib's
frequency-selective reconstruction, PatchMatch, scikit-image's biharmonic fill and the pyramid
fill. Each takes a float RGB image in [0, 1] and a mask with 1 = missing and returns the filled
image; filling/registry.py lists them, and filling.fill.classical keeps the known pixels exact."""
import numpy as np

from utils.images import to_uint8

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


def opencv_fill(method):
    """Telea's or Navier-Stokes' fill of a float RGB image (in 8 bits)."""
    def fill(image, mask, radius=3):
        return opencv_inpaint(to_uint8(image), mask, method, radius).astype(np.float32) / 255.0
    return fill


def opencv_inpaint_as(method):
    """Telea's or Navier-Stokes' fill of 8- or 16-bit samples in their own type."""
    def fill(pixels, holes, radius=3):
        return opencv_inpaint(pixels, holes, method, radius)
    return fill


def biharmonic_fill(image, mask):
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


def source_margin(box):
    """Context around a region (x0, y0, x1, y1) for PatchMatch to copy from: its own size, within
    32-256 px."""
    return int(np.clip(max(box[2] - box[0], box[3] - box[1]), 32, 256))
