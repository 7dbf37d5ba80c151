"""Quality of a filled hole, measured on the missing pixels only (known pixels are copied, so
counting them would only flatter every method). A measure of a hole that is not there (a mask
with no hole pixel, a painting too small for SSIM's window) is None: undefined, never a number
that looks like a result (NaN, or a perfect 100 dB)."""
import numpy as np


def _hole(mask):
    """The hole's pixels (a boolean map), or None when the mask has none."""
    hole = np.asarray(mask) > 0.5
    return hole if hole.any() else None


def hole_mse(result, original, mask):
    hole = _hole(mask)
    return None if hole is None else float(np.mean((result[hole] - original[hole]) ** 2))


def hole_psnr(result, original, mask, max_db=100.0):
    """Peak signal-to-noise ratio over the hole pixels, in dB (values in [0, 1]); a result
    holding NaN gives NaN, never max_db."""
    mse = hole_mse(result, original, mask)
    if mse is None or mse == 0:
        return None if mse is None else max_db
    return float(np.minimum(max_db, 10.0 * np.log10(1.0 / mse)))  # NaN stays NaN


def hole_l1(result, original, mask):
    """Mean absolute error over the hole pixels (all channels)."""
    hole = _hole(mask)
    return None if hole is None else float(np.mean(np.abs(result[hole] - original[hole])))


def hole_ssim(result, original, mask, window=7):
    """The SSIM map (window x window, per channel; smaller, odd, for a painting narrower than
    that, and None under 3 pixels) averaged over the hole pixels."""
    from skimage.metrics import structural_similarity
    hole = _hole(mask)
    window = min(window, min(original.shape[:2]) - (min(original.shape[:2]) + 1) % 2)
    if hole is None or window < 3:
        return None
    _, ssim_map = structural_similarity(original, result, channel_axis=-1, data_range=1.0,
                                        full=True, win_size=window)
    return float(ssim_map[hole].mean())


def _laplacian(image):
    import cv2
    gray = np.asarray(image, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return cv2.Laplacian(gray, cv2.CV_32F, ksize=1)


def hole_sharpness(result, original, mask):
    """How much fine detail the filled hole has, relative to the original's in the same place:
    the variance of the Laplacian over the hole pixels, result / original. 1 = as detailed as the
    original; an MSE-trained fill, which averages the possibilities, gives well under 1."""
    hole = _hole(mask)
    if hole is None:
        return None
    original_detail = float(_laplacian(original)[hole].var())
    return float(_laplacian(result)[hole].var()) / max(original_detail, 1e-8)
