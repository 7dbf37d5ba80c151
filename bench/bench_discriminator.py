"""Why the GANs' discriminators stayed near chance (d_acc 0.52-0.56, docs/filling.md): the
labels. Trains the patch discriminator of models/gan.py alone, side by side under each labelling
of its patches, to tell real paintings from the same paintings with their holes filled by the
smooth pyramid fill (what the shipped generators' fills look like), and prints its accuracy on a
held-out batch every --every steps:
- on the patches each labelling calls fake ("own labels"), and
- on the patches at least half missing (one yardstick for both: where a fill must look real).

Labellings: "spread" (hole_share 0, the first recipes: every patch that sees a missing pixel,
and its neighbours) and "covered" (hole_share 0.5, train_fourier.py's default).

examples:
  python bench/bench_discriminator.py
  python bench/bench_discriminator.py --steps 300 --size 128x192
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--size", default="128x192", help="HxW the paintings are resized to")
    p.add_argument("--paintings", type=int, default=96, help="shared train paintings used")
    p.add_argument("--variants", nargs="+", default=["spread:2e-4", "covered:2e-4",
                                                      "covered:1e-3"],
                   help="LABELLING:LEARNING_RATE of each discriminator trained")
    args = p.parse_args()
    from utils.env import prepare
    prepare()
    import keras
    import numpy as np
    import tensorflow as tf

    from bench.common import shared
    from filling.classical import pyramid_fill
    from models.gan import AdversarialInpainter, build_discriminator
    from training.data import sample_images
    from utils.images import load_image, parse_size
    from utils.masks import Mixed, Blobs, Centre, Strokes, composite

    size = parse_size(args.size)
    paths = shared(("train",))[:args.paintings]
    images = (np.stack([load_image(path, size) for path in paths]) if paths
              else sample_images(size)[0])
    masks = Mixed([Blobs(), Centre(), Strokes()], [0.4, 0.3, 0.3])

    def batch(rng):
        picks = rng.integers(0, len(images), args.batch_size)
        real = images[picks]
        mask = np.stack([masks(size, rng) for _ in picks]).astype(np.float32)
        fake = np.stack([composite(pyramid_fill(image, m), image, m)
                         for image, m in zip(images[rng.permutation(len(images))[:len(picks)]],
                                             mask)])
        return real, fake.astype(np.float32), mask[..., None]

    held_out = batch(np.random.default_rng(999))
    print(f"{len(images)} paintings at {size[0]} x {size[1]}, batches of {args.batch_size}, "
          f"{args.steps} steps, Adam (beta_1 0.5, clipnorm 1) as compile_gan's discriminator\n")
    print("| labelling | learning rate | step | real patches right | own fake patches right | "
          "mostly-missing patches called fake |\n|---|---|---|---|---|---|")
    for variant in args.variants:
        name, lr = variant.split(":")
        share = {"spread": 0.0, "covered": 0.5}[name]
        keras.utils.set_random_seed(0)
        critic = build_discriminator((*size, 3))
        optimizer = keras.optimizers.Adam(float(lr), beta_1=0.5, global_clipnorm=1.0)

        def loss_of(real, fake, mask):
            real_logits, fake_logits = critic(real, training=True), critic(fake, training=True)
            weights = AdversarialInpainter.hole_patches(mask, fake_logits, share)
            real_loss = tf.reduce_mean(keras.ops.binary_crossentropy(
                tf.ones_like(real_logits), real_logits, from_logits=True))
            fake_loss = tf.reduce_sum(keras.ops.binary_crossentropy(
                tf.zeros_like(fake_logits), fake_logits, from_logits=True) * weights)
            return 0.5 * (real_loss + fake_loss / tf.maximum(tf.reduce_sum(weights), 1.0))

        @tf.function(jit_compile=True)
        def step(real, fake, mask):
            with tf.GradientTape() as tape:
                loss = loss_of(real, fake, mask)
            grads = tape.gradient(loss, critic.trainable_variables)
            optimizer.apply_gradients(zip(grads, critic.trainable_variables))
            return loss

        def report(done):
            real, fake, mask = held_out
            real_logits = np.asarray(critic(real))
            fake_logits = np.asarray(critic(fake))
            own = np.asarray(AdversarialInpainter.hole_patches(mask, fake_logits, share)) > 0
            covered = np.asarray(AdversarialInpainter.hole_patches(mask, fake_logits, 0.5)) > 0
            print(f"| {name} | {lr} | {done} | {(real_logits > 0).mean():.2f} | "
                  f"{(fake_logits[own] < 0).mean():.2f} | "
                  f"{(fake_logits[covered] < 0).mean():.2f} |", flush=True)

        rng = np.random.default_rng(1)
        report(0)
        for done in range(1, args.steps + 1):
            step(*batch(rng))
            if done % args.every == 0:
                report(done)


if __name__ == "__main__":
    main()
