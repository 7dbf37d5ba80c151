"""Quality of a filled hole, measured on the missing pixels only (known pixels are copied, so
counting them would only flatter every method)."""
import numpy as np


def hole_mse(result, original, mask):
    hole = mask > 0.5
    return float(np.mean((result[hole] - original[hole]) ** 2))


def hole_psnr(result, original, mask, max_db=100.0):
    """Peak signal-to-noise ratio over the hole pixels, in dB (values in [0, 1])."""
    mse = hole_mse(result, original, mask)
    return max_db if mse == 0 else min(max_db, 10.0 * np.log10(1.0 / mse))


def hole_l1(result, original, mask):
    """Mean absolute error over the hole pixels (all channels)."""
    hole = mask > 0.5
    return float(np.mean(np.abs(result[hole] - original[hole])))


def hole_ssim(result, original, mask):
    """The SSIM map (7 x 7 windows, per channel) averaged over the hole pixels."""
    from skimage.metrics import structural_similarity
    _, ssim_map = structural_similarity(original, result, channel_axis=-1, data_range=1.0,
                                        full=True)
    return float(ssim_map[mask > 0.5].mean())


def _laplacian(image):
    import cv2
    gray = np.asarray(image, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return cv2.Laplacian(gray, cv2.CV_32F, ksize=1)


def hole_sharpness(result, original, mask):
    """How much fine detail the filled hole has, relative to the original's in the same place:
    the variance of the Laplacian over the hole pixels, result / original. 1 = as detailed as the
    original; an MSE-trained fill, which averages the possibilities, gives well under 1."""
    hole = mask > 0.5
    if not hole.any():
        raise ValueError("the mask has no hole pixels")
    original_detail = float(_laplacian(original)[hole].var())
    return float(_laplacian(result)[hole].var()) / max(original_detail, 1e-8)
