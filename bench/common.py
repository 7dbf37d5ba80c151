"""The benchmarks' test paintings, made in one place: a shared painting (or a scikit-image sample
without ../shared) resized, with one kind of damage (DAMAGES) drawn from a seeded Generator, so
each bench's paintings are the same from run to run."""
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for `python bench/common.py`; imported, ROOT is there already
from training.paint_loss import PaintLoss  # noqa: E402
from utils.images import find_images, read_image, to_uint8  # noqa: E402
from utils.masks import Blobs, Holes, damage  # noqa: E402

PAINTINGS = ROOT.parent / "shared" / "data" / "paintings"
INTERPOLATIONS = {"cubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}


def shared(folders=("val",)):
    """The shared paintings in PAINTINGS' folders, folder after folder, each sorted."""
    return [path for folder in folders if (PAINTINGS / folder).is_dir()
            for path in find_images(PAINTINGS / folder)]


CORPUS = ROOT / "data" / "corpus"  # built by ../shared/tools/build_corpus.py (its README)


def corpus_split(corpus=CORPUS):
    """(training, held out) paths of the extra corpus: every tenth painting (sorted) is held
    out, never trained on, for measuring false alarms on paintings the detector never saw."""
    from utils.images import find_images
    paths = find_images(corpus) if Path(corpus).is_dir() else []
    return ([p for i, p in enumerate(paths) if i % 10],
            [p for i, p in enumerate(paths) if i % 10 == 0])


def sources(count=1, folders=("val",), samples=("astronaut",)):
    """(images, paths): the first count shared paintings in folders as uint8 RGB, or, without
    any, the named scikit-image samples (then paths is empty; callers cycle through them)."""
    paths = shared(folders)[:count]
    if paths:
        # read_image is the project's reader; on the shared JPEGs it decodes to the same values
        # as cv2.imread, which the benches that write their paintings with cv2 once used.
        return [to_uint8(read_image(path)) for path in paths], paths
    from skimage import data
    return [getattr(data, name)() for name in samples], []


def _darken(image):
    """No paint left as white as a loss; in place, as a 100-megapixel scan has no room to spare."""
    image[:] = image.astype(np.uint16) * 85 // 100


def _flakes(image, rng):
    """Off-white flakes, cracks and losses drawn into the darkened painting, at a 1600-px scale."""
    height, width = image.shape[:2]
    _darken(image)
    for x, y, r in zip(rng.integers(0, width, 300), rng.integers(0, height, 300),
                       rng.integers(1, 5, 300)):
        cv2.circle(image, (int(x), int(y)), int(r), (250, 250, 250), -1)
    for _ in range(6):
        points = np.cumsum(rng.integers(-40, 41, (8, 2)), axis=0) + rng.integers(100, 1100, 2)
        cv2.polylines(image, [points.astype(np.int32)], False, (240, 245, 245), 2)
    for _ in range(3):
        centre = (int(rng.integers(100, width - 100)), int(rng.integers(100, height - 100)))
        axes = (int(rng.integers(15, 60)), int(rng.integers(10, 40)))
        cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, (230, 236, 238), -1)
    return image, None


def _scaled_mask(shape, rng):
    """Flakes, cracks and losses scaled with the width from their size at 1600 px, as uint8 0/1:
    a float mask of a 100-megapixel scan would take 400 MB more."""
    height, width = shape
    mask = np.zeros((height, width), np.uint8)
    scale = width / 1600
    for x, y, r in zip(rng.integers(0, width, 4000), rng.integers(0, height, 4000),
                       rng.integers(1, 4, 4000)):
        cv2.circle(mask, (int(x), int(y)), int(r * scale), 1, -1)
    for _ in range(40):
        points = np.cumsum(rng.integers(-60, 61, (10, 2)) * scale, axis=0) + \
            rng.integers(0, min(width, height), 2)
        cv2.polylines(mask, [points.astype(np.int32)], False, 1, max(1, int(2 * scale)))
    for _ in range(12):
        cv2.ellipse(mask, (int(rng.integers(0, width)), int(rng.integers(0, height))),
                    (int(rng.integers(10, 40) * scale), int(rng.integers(10, 40) * scale)),
                    float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask


def _scaled_flakes(image, rng):
    _darken(image)
    mask = _scaled_mask(image.shape[:2], rng)
    image[mask > 0] = 255
    return image, mask


def _masks(image, rng):
    """utils.masks' holes and blobs, with cracks, painted white as a model's input is."""
    shape = image.shape[:2]
    mask = Holes()(shape, rng) + Blobs()(shape, rng)
    for _ in range(12):  # cracks: random polylines 2 px wide
        points = np.cumsum(rng.integers(-40, 41, (8, 2)), axis=0) + rng.integers(0, 1200, 2)
        cv2.polylines(mask, [points.astype(np.int32)], False, 1.0, 2)
    mask = (mask > 0).astype(np.float32)
    return damage(image, mask), mask


def _paint_loss(image, rng):
    return PaintLoss(clean=0.0, events=(3, 3))(image, rng)


def _spots(image, rng):
    """3000 round warm off-white losses of 4 to 30 px, drawn into the painting."""
    height, width = image.shape[:2]
    for x, y, r in zip(rng.integers(0, width, 3000), rng.integers(0, height, 3000),
                       rng.integers(4, 30, 3000)):
        cv2.circle(image, (int(x), int(y)), int(r), (235, 215, 200), -1)
    return image, None


# damage: (its function, whether it works on float [0, 1] rather than uint8)
DAMAGES = {"flakes": (_flakes, False), "scaled flakes": (_scaled_flakes, False),
           "masks": (_masks, True), "paint loss": (_paint_loss, True), "spots": (_spots, False)}


def painting(source, size, damage, rng, interpolation="cubic"):
    """(damaged, mask): the uint8 RGB source resized to size (height, width) with damage (a key
    of DAMAGES) painted on, drawn from rng (a numpy Generator or a seed).

    The damaged painting is uint8 RGB, or float32 RGB in [0, 1] for 'masks' and 'paint loss';
    the mask is 1 where damaged (float32; uint8 for 'scaled flakes'), None for 'flakes' and
    'spots', which are drawn straight into the painting.
    """
    make, as_float = DAMAGES[damage]
    image = source.astype(np.float32) / 255.0 if as_float else source
    image = cv2.resize(image, tuple(size[::-1]), interpolation=INTERPOLATIONS[interpolation])
    if as_float:
        image = image.clip(0, 1)  # bicubic overshoots
    return make(image, np.random.default_rng(rng))


def write_paintings(folder, count, size, damage, seed=0, *, name="painting_{:02d}.png",
                    mask_name=None, png_compression=None, folders=("val",),
                    samples=("astronaut",), interpolation="cubic"):
    """Write count paintings (see painting; sources in turn, one Generator seeded with seed for
    all) to folder as name.format(i) and, when given and the damage has one, the mask as
    mask_name.format(i) (0 or 255). Returns (whether they are shared paintings, the fraction
    of each that is damaged or None).

    Takes and returns only JSON's values, so that a bench can run it in a child process:
    python bench/common.py '{"folder": ..., "count": ..., ...}' prints the result as JSON.
    """
    images, paths = sources(count, folders, samples)
    rng = np.random.default_rng(seed)
    # cv2's own PNG settings (fast, run-length) unless told: the files stay byte for byte as the
    # benches have always written them
    options = [] if png_compression is None else [cv2.IMWRITE_PNG_COMPRESSION, png_compression]
    fractions = []
    for i in range(count):
        damaged, mask = painting(images[i % len(images)], size, damage, rng, interpolation)
        damaged = damaged if damaged.dtype == np.uint8 else to_uint8(damaged)
        cv2.imwrite(str(Path(folder) / name.format(i)), cv2.cvtColor(damaged, cv2.COLOR_RGB2BGR),
                    options)
        if mask is not None and mask_name:
            cv2.imwrite(str(Path(folder) / mask_name.format(i)),
                        (mask > 0).astype(np.uint8) * 255)
        fractions.append(None if mask is None else float(mask.mean()))
    return bool(paths), fractions


if __name__ == "__main__":
    # the benches that measure other processes' memory make their paintings in one like this,
    # so that the paintings never weigh on the bench's own process
    print(json.dumps(write_paintings(**json.loads(sys.argv[1]))))
