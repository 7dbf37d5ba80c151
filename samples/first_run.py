"""The first run's painting (demo.py): the public-domain painting of this folder with paint loss
from losses.py, its true loss mask, and how a found mask scores against it."""
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
SAMPLE = FOLDER / "vinckboons-iudea.jpg"
TRUTH = FOLDER / "vinckboons-iudea_losses.png"
LOSS_SEED, LOSS_SHARE = 0, 0.075  # the sample's losses (their mask: TRUTH)


def make_painting(path):
    """The damaged painting (seeded: the same every time) and the share of it lost."""
    from samples.losses import damage, losses
    from utils.files import write_atomically
    from utils.images import read_image, save_image
    image = read_image(SAMPLE)
    damaged = damage(image, losses(image.shape[:2], LOSS_SEED, LOSS_SHARE), LOSS_SEED)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda p: save_image(p, damaged))
    return float((read_image(TRUTH) > 0.5).mean())


def scores(mask_path):
    """(share of the true loss found, share of the intact paint marked, the share of those
    marks farther than 2 px from a true loss) of a mask file against TRUTH."""
    import cv2
    import numpy as np

    from utils.images import read_image
    truth = read_image(TRUTH) > 0.5
    found = read_image(mask_path) > 0.5
    truth, found = (m if m.ndim == 2 else m[..., 0] for m in (truth, found))
    near = cv2.dilate(truth.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    intact = max(1, int((~truth).sum()))
    return ((found & truth).sum() / max(1, truth.sum()), (found & ~truth).sum() / intact,
            (found & ~near).sum() / intact)
