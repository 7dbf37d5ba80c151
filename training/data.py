"""Datasets for training: which paintings, their split, augmentation and damage, as tf.data.

A training element is ((damaged, mask), original, weight): the damaged image has its missing
pixels painted white, mask is (H, W, 1) with 1 = missing, and weight is the per-pixel loss weight
(`hole_weight` inside holes, 1 elsewhere).
"""
import logging
from pathlib import Path

import cv2
import numpy as np

from training.paint_loss import PaintLoss
from utils.errors import UserError
from utils.images import IMAGE_SIZE, find_images, load_folder, read_image, resize
from utils.masks import damage, fixed_masks, mask_generator

log = logging.getLogger("paintings")

REPO_DATA = Path(__file__).resolve().parent.parent / "data"
# scikit-image's bundled colour and grayscale photographs (no download needed): the embedded
# default when the user has given no paintings of their own.
SAMPLE_NAMES = ["astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png",
                "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png",
                "moon.png", "motorcycle_left.png", "motorcycle_right.png", "retina.jpg",
                "rocket.jpg"]


def sample_paths():
    """The files of scikit-image's sample photographs this project uses."""
    import skimage.data
    folder = Path(skimage.data.__file__).parent
    return [folder / name for name in SAMPLE_NAMES if (folder / name).exists()]


def sample_images(size=IMAGE_SIZE):
    """scikit-image's sample photographs, resized: (array N x H x W x 3, names)."""
    paths = sample_paths()
    return np.stack([resize(read_image(p), size) for p in paths]), [p.name for p in paths]


def split(images, names, seed, val_fraction=0.15):
    """A seeded split into (train, val), each a (images, names) pair, at least one image in each."""
    if len(images) < 2:
        raise UserError(f"need at least 2 images to split into training and validation, "
                        f"found {len(images)}")
    order = np.random.default_rng(seed).permutation(len(images))
    n_val = max(1, int(round(val_fraction * len(images))))
    val, train = order[:n_val], order[n_val:]
    return ((images[train], [names[i] for i in train]),
            (images[val], [names[i] for i in val]))


def load_paintings(data_dir=None, size=IMAGE_SIZE, seed=0):
    """The training and validation paintings, and a sentence saying where they came from.

    data_dir/train and data_dir/val are used when both exist; otherwise every image under data_dir
    is split by seed. With no data_dir: the repository's data/ folder if it holds images, else
    scikit-image's sample photographs.
    """
    if data_dir is None:
        if REPO_DATA.is_dir() and find_images(REPO_DATA):
            data_dir = REPO_DATA
        else:
            images, names = sample_images(size)
            train, val = split(images, names, seed)
            return train, val, (f"no --data given and no images in {REPO_DATA}: using the "
                                f"{len(images)} sample photographs that scikit-image ships")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"data folder {data_dir} does not exist")
    if (data_dir / "train").is_dir() and (data_dir / "val").is_dir():
        train_images, train_paths = load_folder(data_dir / "train", size, progress=True)
        val_images, val_paths = load_folder(data_dir / "val", size, progress=True)
        train = (train_images, [p.name for p in train_paths])
        val = (val_images, [p.name for p in val_paths])
        where = f"{data_dir}/train and {data_dir}/val"
    else:
        images, paths = load_folder(data_dir, size, progress=True)
        train, val = split(images, [p.name for p in paths], seed)
        where = f"{data_dir}, split by seed {seed}"
    return train, val, f"{len(train[0])} training and {len(val[0])} validation images from {where}"


def augmenter(seed):
    """Random shift, shear, zoom and horizontal flip, the original ImageDataGenerator's settings
    (0.2 each, fill mode nearest) as Keras 3 preprocessing layers.

    ImageDataGenerator read shear_range in degrees; RandomShear reads 0.2 as a shear factor (about
    11 degrees at most), which is what augmenting paintings needs.
    """
    import keras
    layers = keras.layers
    return keras.Sequential([
        layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=seed),
        layers.RandomShear(0.2, 0.2, fill_mode="nearest", seed=seed + 1),
        layers.RandomZoom(0.2, 0.2, fill_mode="nearest", seed=seed + 2),
        layers.RandomFlip("horizontal", seed=seed + 3),
    ], name="augment")


def _with_mask(images, masks, hole_weight):
    """((damaged, mask), image, weight) from images (B, H, W, 3) and masks (B, H, W)."""
    weight = 1.0 + (hole_weight - 1.0) * masks
    masks = masks[..., None]
    return (damage(images, masks), masks), images, weight


def _shard(images, shard):
    """The paintings of one input pipeline (of a multi-worker run) and the seeds' extra key:
    pipeline 0 of 1 is every painting, with the seeds a single-device run has always had."""
    index, count = shard
    if count > 1 and len(images) >= count:
        images = images[index::count]
    return images, ([index] if index else [])


def training_dataset(images, batch_size, mask_kind="mixed", seed=0, augment=True,
                     hole_weight=1.0, start_batch=0, shard=(0, 1)):
    """An endless tf.data.Dataset of damaged training batches, reproducible for a seed.

    start_batch offsets the mask stream, so a resumed run does not replay the first masks;
    shard = (index, count) makes input pipeline index of count (one per worker of a multi-worker
    run): its own share of the paintings, and its own masks and augmentation.
    """
    import tensorflow as tf
    images, key = _shard(images, shard)
    shape = images.shape[1:3]
    generate = mask_generator(mask_kind)
    seed_offset = 7919 * shard[0]

    def make_masks(index):
        rng = np.random.default_rng([seed, 1, int(index), *key])
        return np.stack([generate(shape, rng) for _ in range(batch_size)]).astype(np.float32)

    def add_masks(index, batch):
        masks = tf.numpy_function(make_masks, [index + start_batch], tf.float32)
        masks.set_shape((batch_size, *shape))
        return _with_mask(batch, masks, hole_weight)

    ds = tf.data.Dataset.from_tensor_slices(images)
    ds = ds.shuffle(len(images), seed=seed + seed_offset + start_batch,
                    reshuffle_each_iteration=True)
    ds = ds.repeat().batch(batch_size, drop_remainder=True)
    if augment:
        layers = augmenter(seed + seed_offset + start_batch)
        # One call at a time: the layers' seed state advances with each call, and parallel calls
        # would advance it in a different order on every run.
        ds = ds.map(lambda batch: layers(batch, training=True))
    ds = ds.enumerate().map(add_masks, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def validation_data(images, mask_kind="mixed", seed=0, hole_weight=1.0):
    """The validation set with its fixed masks, as NumPy arrays: ((damaged, mask), image, weight)."""
    masks = fixed_masks(mask_kind, len(images), images.shape[1:3], seed)
    return _with_mask(images, masks, hole_weight)


def random_crop(image, size, rng, zoom=(0.6, 1.5), around=None, mirror=True):
    """A crop of size (h, w) at a random place and a random scale (a region zoom times the size,
    resized to it), mirrored left-right half the time (unless not mirror): paintings are
    photographed, and analysed, at many scales. around: a point (y, x) of the image the crop
    must hold, away from its edge where the image allows."""
    scale = min(rng.uniform(*zoom), image.shape[0] / size[0], image.shape[1] / size[1])
    height, width = int(size[0] * scale), int(size[1] * scale)
    if around is None:
        top = int(rng.integers(0, image.shape[0] - height + 1))
        left = int(rng.integers(0, image.shape[1] - width + 1))
    else:
        y, x = around
        top = int(np.clip(y - rng.integers(height // 4, height - height // 4 + 1), 0,
                          image.shape[0] - height))
        left = int(np.clip(x - rng.integers(width // 4, width - width // 4 + 1), 0,
                           image.shape[1] - width))
    crop = image[top:top + height, left:left + width]
    if crop.shape[:2] != tuple(size):
        crop = cv2.resize(crop, size[::-1], interpolation=cv2.INTER_AREA if scale > 1 else
                          cv2.INTER_LINEAR)
    return crop[:, ::-1] if mirror and rng.uniform() < 0.5 else crop


def false_alarms(model, images, per_image=8, threshold=0.5, seed=0, batch_size=16):
    """Where a detector marks clean paintings (images (N, H, W, 3) in [0, 1]): (M, 3) int64 rows
    of (painting, y, x), at most per_image of each painting's pixels above threshold, drawn with
    their probability as weight: the hard negatives a detector is fine-tuned to leave alone
    (what fooled it: highlights, white drapery, inscriptions, skies, borders)."""
    from tqdm import tqdm
    rng = np.random.default_rng([seed, 4])
    rows = []
    for start in tqdm(range(0, len(images), batch_size), desc="false alarms", unit="batch"):
        batch = images[start:start + batch_size]
        probability = np.asarray(model.predict(batch, verbose=0))[..., 0]
        for offset, p in enumerate(probability):
            ys, xs = np.nonzero(p > threshold)
            if not len(ys):
                continue
            weight = p[ys, xs] / p[ys, xs].sum()
            pick = rng.choice(len(ys), min(per_image, len(ys)), replace=False, p=weight)
            rows += [(start + offset, ys[i], xs[i]) for i in pick]
    return np.array(rows, np.int64).reshape(-1, 3)


def _damaged_crops(images, picks, size, rng, paint_loss):
    pairs = [paint_loss(random_crop(images[i], size, rng), rng) for i in picks]
    return (np.stack([p[0] for p in pairs]).astype(np.float32),
            np.stack([p[1] for p in pairs])[..., None].astype(np.float32))


def _hard_crops(images, paintings, masks, alarms, hard, size, rng):
    """Replace about a hard fraction of a batch's crops by clean crops around false alarms."""
    for k in np.flatnonzero(rng.uniform(size=len(paintings)) < hard):
        index, y, x = alarms[rng.integers(len(alarms))]
        paintings[k] = random_crop(images[index], size, rng, around=(y, x))
        masks[k] = 0.0


def detection_dataset(images, batch_size, size, seed=0, start_batch=0, shard=(0, 1), clean=0.3,
                      decoys=0.0, hard=0.0, alarms=None):
    """An endless tf.data.Dataset of (painting, damage mask) batches for the damage detector:
    random crops of size (h, w) at random scales from the paintings, each with synthetic paint
    loss (or, a `clean` fraction of them, none: where it must stay silent; a `decoys` fraction
    with pale paint painted on, unmarked: PaintLoss; a `hard` fraction cut around the false
    alarms given, (painting, y, x) rows as false_alarms finds them, left clean), reproducible
    for a seed; start_batch continues a resumed run's stream; shard as training_dataset
    takes it."""
    import tensorflow as tf
    if hard and alarms is not None and len(alarms) and shard[1] > 1 and len(images) >= shard[1]:
        alarms = alarms[alarms[:, 0] % shard[1] == shard[0]]  # this pipeline's paintings
        alarms = np.column_stack([alarms[:, 0] // shard[1], alarms[:, 1:]])
    images, key = _shard(images, shard)
    paint_loss = PaintLoss(clean=clean, decoys=decoys)
    hard = hard if alarms is not None and len(alarms) else 0.0

    def make(index):
        rng = np.random.default_rng([seed, 2, int(index), *key])
        paintings, masks = _damaged_crops(images, rng.integers(0, len(images), batch_size), size,
                                          rng, paint_loss)
        if hard:
            _hard_crops(images, paintings, masks, alarms, hard, size, rng)
        return paintings, masks

    def batch(index):
        painting, mask = tf.numpy_function(make, [index], (tf.float32, tf.float32))
        painting.set_shape((batch_size, *size, 3))
        mask.set_shape((batch_size, *size, 1))
        return painting, mask

    ds = tf.data.Dataset.counter(start_batch)
    ds = ds.map(batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def detection_validation(images, size, seed=0):
    """One fixed damaged crop per validation painting: (paintings, masks, None)."""
    rng = np.random.default_rng([seed, 3])
    paintings, masks = _damaged_crops(images, range(len(images)), size, rng, PaintLoss())
    return paintings, masks, None
