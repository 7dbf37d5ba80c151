"""What each kind of model trains on and shows: the paintings with artificial damage for the
inpainting models, crops with synthetic paint loss for the damage detector, and the sample grids
saved after each epoch."""
from pathlib import Path

import numpy as np

from utils.masks import composite


def inpainting_data(config, start_batch, folder=None):
    """The paintings with artificial damage to fill: (make_training(shard, batch_size) -> the
    training dataset of one input pipeline, validation data, where the paintings came from).
    folder: the run's (unused: nothing of this data is kept)."""
    from training.data import load_paintings, training_dataset, validation_data
    c = config
    (train_images, _), (val_images, _), where = load_paintings(c["data"], tuple(c["image_size"]),
                                                               c["seed"])

    def make_training(shard, batch_size):
        return training_dataset(train_images, batch_size, c["mask"], c["seed"],
                                augment=not c["no_augment"], hole_weight=c["hole_weight"],
                                start_batch=start_batch, shard=shard)
    return make_training, validation_data(val_images, c["mask"], c["seed"], c["hole_weight"]), \
        where


def inpainting_samples(model, samples):
    """The rows and titles of a sample grid: damaged | output | composite | original."""
    (damaged, mask), original, _ = samples
    output = model.predict([damaged, mask], verbose=0)
    return (list(zip(damaged, output, composite(output, original, mask), original)),
            ["damaged", "output", "composite", "original"])


def detection_data(config, start_batch, folder=None):
    """Crops of the paintings with synthetic paint loss, for the damage detector: (make_training
    (shard, batch_size), validation data, where the paintings came from). With hard negatives,
    the false alarms are found on the first start and kept in the run's folder
    (false_alarms.npy), so that a resumed run trains on the same ones whatever became of the
    --init file."""
    from training.data import (detection_dataset, detection_validation, false_alarms,
                               load_paintings)
    c = config
    size = tuple(c["image_size"])
    (train_images, _), (val_images, _), where = load_paintings(
        c["data"], (2 * size[0], 2 * size[1]), c["seed"])

    hard, alarms = c.get("hard_negatives", 0.0), None  # older runs: none
    if hard:
        kept = Path(folder) / "false_alarms.npy" if folder is not None else None
        if kept is not None and kept.is_file():
            alarms = np.load(kept)
        else:
            from models.loading import load_detector
            alarms = false_alarms(load_detector(c["init"]), train_images, seed=c["seed"])
            if kept is not None:
                np.save(kept, alarms)
        where += (f"; {len(alarms)} false alarms of {c['init']} on "
                  f"{len(np.unique(alarms[:, 0]))} of them as hard negatives")

    def make_training(shard, batch_size):
        return detection_dataset(train_images, batch_size, size, c["seed"], start_batch, shard,
                                 clean=c.get("clean_fraction", 0.3),  # older runs: 0.3
                                 decoys=c.get("decoys", 0.0),  # older runs: none
                                 hard=hard, alarms=alarms)
    return make_training, detection_validation(val_images, size, c["seed"]), where


def detection_samples(model, samples):
    """The rows and titles of a detector's sample grid: painting | true | found | overlay."""
    paintings, truth, _ = samples
    found = model.predict(paintings, verbose=0)
    overlay = [np.where(f > 0.5, 0.5 * p + 0.5 * np.array([1.0, 0.0, 1.0]), p)
               for p, f in zip(paintings, found)]
    return (list(zip(paintings, np.repeat(truth, 3, -1), np.repeat(found, 3, -1), overlay)),
            ["painting", "true loss", "found", "found (magenta)"])
