"""Benchmark the Context Encoders on this machine, every figure measured side by side in one run.

Each part runs in a child process of its own (so its peak memory is its own, and TensorFlow's
settings can differ): float32 matrix-multiply rate (the limit), training throughput at 256 x 384
batch 8 with its achieved GFLOP/s, the same with TensorFlow's defaults (no oneDNN, no XLA), the
data pipeline alone (load, augment, mask), inference latency per image, Context Encoder 2's
training throughput and memory, and the GAN's and conditional GAN's (for equal time budgets).

Targets: training >= 55% of the matmul rate, data pipeline >= 10x the training rate, training
peak memory <= 3 GB (Context Encoder 2: <= 4 GB).

examples:
  python bench/bench_context_encoder.py
  python bench/bench_context_encoder.py --quick     # skip the TensorFlow-defaults comparison
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZE, BATCH = (256, 384), 8


def _peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def forward_flops(model):
    """Counted multiply-add FLOPs (x2) per image of the model's convolutions and channel-wise
    fully-connected layers: over 99% of its arithmetic; elementwise work and the pyramid fill are
    left out."""
    import keras
    from models.layers import ChannelwiseDense
    total = 0
    for layer in model.layers:
        if isinstance(layer, ChannelwiseDense):
            total += 2 * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            total += 2 * height * width * layer.input.shape[-1] * filters * layer.kernel_size[0] ** 2
    return total


def part_matmul(n=2048, repeats=20):
    import tensorflow as tf
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.matmul(a, b).numpy()
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            c = tf.matmul(a, b)
        c.numpy()
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9)
    return {"gflops": best}


def _model_and_batch(model="context_encoder"):
    from models import context_encoder
    from utils.masks import damage, fixed_masks
    rng = np.random.default_rng(0)
    images = rng.random((BATCH, *SIZE, 3)).astype(np.float32)
    masks = fixed_masks("mixed", BATCH, SIZE, 0)[..., None]
    build = getattr(context_encoder, f"build_{model}")
    return build((*SIZE, 3)), [damage(images, masks), masks], images


def part_train(jit=True, steps=12, model="context_encoder"):
    from models.context_encoder import compile_context_encoder
    model, inputs, target = _model_and_batch(model)
    compile_context_encoder(model, jit_compile=jit)
    weight = np.ones((BATCH, *SIZE), np.float32)
    for _ in range(2):  # compile and warm up
        model.train_on_batch(inputs, target, sample_weight=weight)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(inputs, target, sample_weight=weight)
    images_per_s = steps * BATCH / (time.perf_counter() - start)
    flops = forward_flops(model)
    # A training step is a forward pass and a backward pass that costs about two more.
    return {"images_per_s": images_per_s, "forward_gflop": flops / 1e9,
            "gflops": 3 * flops * images_per_s / 1e9, "params": model.count_params(),
            "peak_gb": _peak_rss_gb()}


def part_train_gan(conditional, steps=8):
    """Adversarial training: the Context Encoder as generator plus the patch discriminator."""
    from models.gan import build_discriminator, build_gan, compile_gan
    generator, inputs, target = _model_and_batch()
    model = compile_gan(build_gan((*SIZE, 3), conditional, generator=generator))
    data = (tuple(inputs), target, np.ones((BATCH, *SIZE), np.float32))
    for _ in range(2):
        model.train_on_batch(*data)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*data)
    images_per_s = steps * BATCH / (time.perf_counter() - start)
    # generator forward and backward, discriminator on real and fake, forward and backward
    flops = 3 * forward_flops(generator) + 2 * 3 * forward_flops(build_discriminator((*SIZE, 3)))
    return {"images_per_s": images_per_s, "gflops": flops * images_per_s / 1e9,
            "peak_gb": _peak_rss_gb()}


def part_pipeline(data, batches=40):
    from training.data import training_dataset
    from utils.images import load_folder
    start = time.perf_counter()
    if data:
        images, _ = load_folder(data, SIZE)
    else:
        images = np.random.default_rng(0).random((64, *SIZE, 3)).astype(np.float32)
    load_per_s = len(images) / (time.perf_counter() - start)
    iterator = iter(training_dataset(images, BATCH, "mixed", seed=0, augment=True))
    for _ in range(3):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return {"images_per_s": batches * BATCH / (time.perf_counter() - start),
            "load_images_per_s": load_per_s, "images": len(images), "from": data or "random"}


def part_inference(repeats=10):
    model, inputs, _ = _model_and_batch()
    single = [x[:1] for x in inputs]
    for _ in range(2):
        model.predict_on_batch(single)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(single)
        times.append(time.perf_counter() - start)
    return {"ms_per_image": 1000 * float(np.median(times))}


def child(part, env=None, args=()):
    """Run one part in a fresh Python process and return its JSON result."""
    environment = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, __file__, "--part", part, *args], env=environment,
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"benchmark part {part} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "paintings" / "train"),
                   help="paintings for the data-pipeline part (random images if absent)")
    p.add_argument("--quick", action="store_true", help="skip the TensorFlow-defaults run")
    p.add_argument("--part", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.part:
        from utils import env
        env.prepare()  # TensorFlow's environment, as the scripts set it
        result = {"matmul": part_matmul, "train": part_train, "inference": part_inference,
                  "train_defaults": lambda: part_train(jit=False),
                  "train_ce2": lambda: part_train(model="context_encoder2"),
                  "train_gan": lambda: part_train_gan(False),
                  "train_cgan": lambda: part_train_gan(True),
                  "pipeline": lambda: part_pipeline(args.data if Path(args.data).is_dir()
                                                    else None)}[args.part]()
        print(json.dumps(result))
        return

    defaults = {"TF_ENABLE_ONEDNN_OPTS": "0"}
    print(f"Context Encoder benchmark, {SIZE[0]} x {SIZE[1]}, batch {BATCH}, "
          f"{os.cpu_count()} CPU cores")
    matmul = child("matmul")
    train = child("train")
    plain = None if args.quick else child("train_defaults", env=defaults)
    plain_matmul = None if args.quick else child("matmul", env=defaults)
    pipeline = child("pipeline", args=["--data", args.data])
    inference = child("inference")
    ce2 = child("train_ce2")
    gans = {name: child(f"train_{name}") for name in ("gan", "cgan")}

    rows = [
        ("float32 matmul 2048^3, oneDNN (the limit)", f"{matmul['gflops']:.1f} GFLOP/s", "", ""),
        ("training, oneDNN + XLA", f"{train['images_per_s']:.2f} img/s = "
         f"{train['gflops']:.1f} GFLOP/s", f"{train['gflops'] / matmul['gflops']:.0%} of matmul",
         ">= 55%"),
    ]
    if plain:
        rows += [("float32 matmul, TensorFlow defaults", f"{plain_matmul['gflops']:.1f} GFLOP/s",
                  "", ""),
                 ("training, TensorFlow defaults (no oneDNN, no XLA)",
                  f"{plain['images_per_s']:.2f} img/s = {plain['gflops']:.1f} GFLOP/s",
                  f"{plain['gflops'] / matmul['gflops']:.0%} of matmul", "")]
    rows += [
        (f"data pipeline (augment + mask), {pipeline['images']} images from {pipeline['from']}",
         f"{pipeline['images_per_s']:.0f} img/s",
         f"{pipeline['images_per_s'] / train['images_per_s']:.0f}x training", ">= 10x"),
        ("  loading and resizing those images once", f"{pipeline['load_images_per_s']:.0f} img/s",
         "", ""),
        ("inference, one image", f"{inference['ms_per_image']:.0f} ms", "", ""),
        ("training peak memory (whole process)", f"{train['peak_gb']:.2f} GB", "", "<= 3 GB"),
        (f"Context Encoder 2 training ({ce2['params'] / 1e6:.1f} M parameters)",
         f"{ce2['images_per_s']:.2f} img/s = {ce2['gflops']:.1f} GFLOP/s",
         f"{ce2['gflops'] / matmul['gflops']:.0%} of matmul; "
         f"{ce2['images_per_s'] / train['images_per_s']:.2f}x Context Encoder", ""),
        ("Context Encoder 2 training peak memory", f"{ce2['peak_gb']:.2f} GB", "", "<= 4 GB"),
    ]
    for name, gan in gans.items():
        rows.append((f"{name.upper()} training (generator + discriminator)",
                     f"{gan['images_per_s']:.2f} img/s = {gan['gflops']:.1f} GFLOP/s, "
                     f"{gan['peak_gb']:.2f} GB peak",
                     f"{gan['gflops'] / matmul['gflops']:.0%} of matmul; "
                     f"{gan['images_per_s'] / train['images_per_s']:.2f}x Context Encoder", ""))
    print(f"model: {train['params']:,} parameters, {train['forward_gflop']:.2f} GFLOP per image "
          f"forward (counted convolutions), training step = 3x forward\n")
    print("| measure | value | ratio | target |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
