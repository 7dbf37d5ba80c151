"""One training step of each model on one device and on two replicas, in a fresh process (the CPU
must be split into two logical devices before TensorFlow starts). Run by test_distribute.py:

    python tests/replica_step.py OPTIMIZER[:MODEL,MODEL...]...   # adam, clipped or sgd

prints one JSON line per model: the largest difference between the weights after one step on one
device with the whole batch and after one step on two replicas with half of it each, and the
logged figures of both.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from utils import env  # noqa: E402

env.prepare()  # TensorFlow's environment, as the scripts set it
from utils import distribute  # noqa: E402

distribute.split_cpu(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from models.context_encoder import (build_context_encoder, build_context_encoder2,  # noqa: E402
                                    compile_context_encoder)
from models.detector import build_damage_detector, compile_damage_detector  # noqa: E402
from models.optimizers import Adam  # noqa: E402
from models.gan import (build_discriminator, build_gan, build_generator,  # noqa: E402
                        compile_gan)

SHAPE, BATCH = (32, 64), 4
MODELS = ("context_encoder", "context_encoder2", "gan", "cgan", "detector")
# Each model's layers and train_step as they are, but narrow and two levels deep: what differs
# between one device and two replicas is how a step sums and scales, not the network's size,
# and a small network traces in about two thirds of the time.
NARROW = {"width": 8, "depth": 2}


def optimizer(kind, lr):
    if kind == "sgd":  # no clipping: a wrong scale of the summed gradient moves the weights
        return keras.optimizers.SGD(lr)
    # "clipped": a norm so small that every step is clipped, after the replicas' sum or not
    return Adam(lr, global_clipnorm=1.0 if kind == "adam" else 1e-3)


def make(name, kind):
    keras.utils.set_random_seed(3)
    if name.startswith("context_encoder"):
        build = build_context_encoder2 if name.endswith("2") else build_context_encoder
        model = compile_context_encoder(build((*SHAPE, 3), **NARROW), jit_compile=False)
        model.compile(optimizer=optimizer(kind, 1e-3), loss="mean_squared_error",
                      jit_compile=False)
    elif name == "detector":
        model = compile_damage_detector(build_damage_detector(width=4, max_channels=16),
                                        jit_compile=False)
        model.compile(optimizer=optimizer(kind, 1e-3), loss=model.loss, jit_compile=False)
    else:
        model = build_gan((*SHAPE, 3), conditional=name == "cgan",
                          generator=build_generator((*SHAPE, 3), **NARROW),
                          discriminator=build_discriminator((*SHAPE, 3), **NARROW))
        compile_gan(model, jit_compile=False)  # the real recipe's weights
        model.compile(optimizer(kind, 1e-3), optimizer(kind, 2e-4), fm_weight=1.0,
                      jit_compile=False)
    return model


def batch(name):
    rng = np.random.default_rng(0)
    image = rng.random((BATCH, *SHAPE, 3), dtype=np.float32)
    mask = np.zeros((BATCH, *SHAPE, 1), np.float32)
    for i in range(BATCH):  # holes of different sizes: the replicas' hole patches differ
        mask[i, 4:8 + 6 * i, 8:14 + 8 * i] = 1
    if name == "detector":
        return image, mask
    weight = np.where(mask[..., 0] > 0, 2.0, 1.0).astype(np.float32)
    return (np.where(mask > 0, 1.0, image), mask), image, weight


def step(name, kind, strategy):
    """The model's weights before and after one step under strategy, and its logged figures."""
    with strategy.scope():
        model = make(name, kind)
    before = [v.numpy() for v in model.trainable_variables]
    data = tf.data.Dataset.from_tensors(batch(name))
    if strategy is not tf.distribute.get_strategy():
        data = strategy.experimental_distribute_dataset(data)  # each replica: half the batch
    logs = model.fit(data, epochs=1, verbose=0).history
    return before, [v.numpy() for v in model.trainable_variables], \
        {k: float(v[0]) for k, v in logs.items()}


def main(kinds):
    """kinds: an optimizer (adam: the models' own; clipped: theirs, clipping every step; sgd),
    each for every model, or, after a colon, for the models named."""
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    runs = [(kind.split(":")[0], name) for kind in kinds
            for name in (kind.split(":")[1].split(",") if ":" in kind else MODELS)]
    for kind, name in runs:
        start, one, one_logs = step(name, kind, tf.distribute.get_strategy())
        _, two, two_logs = step(name, kind, mirrored)
        moved = max(float(np.max(np.abs(a - b))) for a, b in zip(one, start))
        print(json.dumps({"model": name, "optimizer": kind,
                          "replicas": mirrored.num_replicas_in_sync,
                          "max_difference": max(float(np.max(np.abs(a - b)))
                                                for a, b in zip(one, two)),
                          "max_step": moved, "one": one_logs, "two": two_logs}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
