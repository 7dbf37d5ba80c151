"""The GAN and the conditional GAN: shapes, the Composite layer, one training step, saving, the
scripts end to end."""
import csv
import json

import keras
import numpy as np
import pytest

import models.gan  # noqa: F401  (registers the adversarial model the checkpoints hold)
from conftest import run_script, write_paintings
from models.gan import build_discriminator, build_gan, build_generator, compile_gan
from models.layers import Composite
from training.loop import RunCallback
from utils.errors import UserError
from utils.masks import Blobs, damage

SMALL = (64, 96, 3)


def _narrow_gan(conditional):
    """A GAN of the real kind with narrow, shallow networks: its steps are the real steps, in
    a fraction of the time (the full widths are built in test_shapes)."""
    return build_gan(SMALL, conditional, generator=build_generator(SMALL, width=8, depth=2),
                     discriminator=build_discriminator(SMALL, width=8, depth=2))


def _batch(count=4, shape=SMALL, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((count, *shape)).astype(np.float32)
    mask = np.stack([Blobs()(shape[:2], rng) for _ in range(count)])[..., None]
    return damage(image, mask), mask.astype(np.float32), image


@pytest.mark.parametrize("shape", [(256, 384, 3), SMALL])
def test_shapes(shape):
    damaged, mask, _ = _batch(2, shape)
    out = build_generator(shape).predict([damaged, mask], verbose=0)
    assert out.shape == (2, *shape) and 0.0 <= out.min() and out.max() <= 1.0
    logits = build_discriminator(shape).predict(out, verbose=0)
    assert logits.shape == (2, shape[0] // 16, shape[1] // 16, 1)
    # logits, not probabilities: the output layer has no activation
    assert build_discriminator(shape).get_layer("logits").activation.__name__ == "linear"


def test_composite_keeps_every_known_pixel_and_reloads_safely(tmp_path):
    damaged, mask, image = _batch(2)
    generated = np.random.default_rng(5).random(image.shape).astype(np.float32)
    inputs = [keras.Input(SMALL), keras.Input(SMALL), keras.Input((*SMALL[:2], 1))]
    model = keras.Model(inputs, Composite()(*inputs))
    out = model.predict([generated, damaged, mask], verbose=0)
    known = mask[..., 0] == 0
    assert np.array_equal(out[known], damaged[known])  # bit-identical
    assert np.array_equal(out[~known], generated[~known])
    model.save(tmp_path / "composite.keras")
    reloaded = keras.models.load_model(tmp_path / "composite.keras", safe_mode=True)
    assert np.array_equal(reloaded.predict([generated, damaged, mask], verbose=0), out)


@pytest.mark.parametrize("conditional", [False, True])
def test_one_train_step_changes_both_networks(conditional):
    model = compile_gan(_narrow_gan(conditional), jit_compile=False)
    damaged, mask, image = _batch()
    before = [v.numpy().copy() for v in model.generator.trainable_variables +
              model.discriminator.trainable_variables]
    logs = model.train_on_batch((damaged, mask), image, return_dict=True)
    assert set(logs) == {"loss", "g_adv", "g_fm", "d_loss", "d_acc", "d_perfect"}
    assert all(np.isfinite(v) for v in logs.values())
    assert 0.0 <= logs["d_acc"] <= 1.0
    after = model.generator.trainable_variables + model.discriminator.trainable_variables
    changed = [not np.array_equal(b, a.numpy()) for b, a in zip(before, after)]
    n_gen = len(model.generator.trainable_variables)
    # the generator's zero-initialised correction gets a gradient, and every discriminator layer
    assert any(changed[:n_gen]) and all(changed[n_gen:])


@pytest.mark.slow
def test_feature_matching_pulls_the_generator_only_when_weighted():
    """The feature-matching term is logged either way; with fm_weight 0 the generator's step is
    the one without it, with fm_weight > 0 it differs."""
    damaged, mask, image = _batch()
    steps = {}
    for weight in (0.0, 50.0):
        keras.utils.set_random_seed(0)
        # narrow and shallow networks: the term is the point, and a step traces in half the time
        model = compile_gan(build_gan(SMALL, generator=build_generator(SMALL, width=8, depth=2),
                                      discriminator=build_discriminator(SMALL, width=8, depth=2)),
                            fm_weight=weight, jit_compile=False)
        logs = model.train_on_batch((damaged, mask), image, return_dict=True)
        assert logs["g_fm"] > 0
        steps[weight] = [v.numpy() for v in model.generator.trainable_variables]
    assert any(not np.allclose(a, b) for a, b in zip(steps[0.0], steps[50.0]))
    assert model.get_compile_config()["fm_weight"] == 50.0


def test_a_gan_starts_from_a_saved_context_encoder(tmp_path):
    from models.context_encoder import build_context_encoder
    from training.loop import start_from
    encoder = build_context_encoder(SMALL)
    rng = np.random.default_rng(3)
    encoder.set_weights([rng.normal(0, 0.01, w.shape) for w in encoder.get_weights()])
    encoder.save(tmp_path / "ce.keras")
    gan = build_gan(SMALL, conditional=True)
    critic = [w.copy() for w in gan.discriminator.get_weights()]
    start_from(gan, tmp_path / "ce.keras")
    assert all(np.array_equal(a, b) for a, b in zip(gan.generator.get_weights(),
                                                     encoder.get_weights()))
    assert all(np.array_equal(a, b) for a, b in zip(gan.discriminator.get_weights(), critic))


def test_only_patches_that_see_a_hole_are_labelled_fake():
    from models.gan import AdversarialInpainter
    mask = np.zeros((1, 64, 96, 1), np.float32)
    mask[0, 40:44, 10:14] = 1  # one small hole, in patch row 2 or 3 (of 4), column 0
    logits = np.zeros((1, 4, 6, 1), np.float32)
    patches = np.asarray(AdversarialInpainter.hole_patches(mask, logits))[0, ..., 0]
    assert patches[2, 0] == 1 and patches[1, 1] == 1  # its patch and the neighbouring ones
    assert patches[:, 3:].sum() == 0 and patches[0].sum() == 0  # none far from it


def test_with_a_hole_share_only_patches_mostly_missing_are_labelled_fake():
    from models.gan import AdversarialInpainter
    mask = np.zeros((1, 64, 96, 1), np.float32)
    mask[0, 16:32, 16:32] = 1   # patch (1, 1) of 16 x 16 px: all missing
    mask[0, 32:34, 48:64] = 1   # patch (2, 3): one eighth missing
    logits = np.zeros((1, 4, 6, 1), np.float32)
    patches = np.asarray(AdversarialInpainter.hole_patches(mask, logits, share=0.5))[0, ..., 0]
    assert patches[1, 1] == 1 and patches.sum() == 1


def test_r1_and_l1_steps_are_finite_and_move_both_networks():
    model = compile_gan(_narrow_gan(conditional=True), jit_compile=False, r1_weight=1.0,
                        hole_share=0.5, rec_loss="l1")
    damaged, mask, image = _batch()
    before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    logs = model.train_on_batch((damaged, mask), image, return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())
    # the log's loss is the MSE, not the L1 the generator minimised
    generated = np.asarray(model.generator([damaged, mask]))
    assert logs["loss"] < np.abs(generated - image).mean()
    assert all(not np.array_equal(b, a.numpy())
               for b, a in zip(before, model.discriminator.trainable_variables))
    assert model.get_compile_config()["r1_weight"] == 1.0


def test_the_fourier_inpainter_starts_as_the_context_encoder_it_is_initialised_from(tmp_path):
    from models.context_encoder import build_context_encoder
    from models.ffc import build_fourier_inpainter
    from training.loop import start_from
    encoder = build_context_encoder(SMALL)
    rng = np.random.default_rng(3)
    encoder.set_weights([rng.normal(0, 0.02, w.shape) for w in encoder.get_weights()])
    encoder.save(tmp_path / "ce.keras")
    gan = build_gan(SMALL, conditional=True, generator=build_fourier_inpainter(SMALL, blocks=2))
    start_from(gan, tmp_path / "ce.keras")
    damaged, mask, _ = _batch()
    assert np.allclose(np.asarray(gan.generator([damaged, mask])),
                       np.asarray(encoder([damaged, mask])), atol=1e-6)
    # its Fourier blocks are real layers that reload from a file, at any size
    from models.loading import load_inpainting_model
    gan.generator.save(tmp_path / "fourier.keras")
    reloaded = load_inpainting_model(tmp_path / "fourier.keras")
    assert reloaded.count_params() > encoder.count_params()
    with pytest.raises(UserError, match="not this one"):
        start_from(build_gan(SMALL), tmp_path / "fourier.keras")


def test_the_fourier_unit_mixes_every_position():
    from models.layers import FourierUnit
    layer = FourierUnit()
    x = np.random.default_rng(0).normal(size=(1, 16, 24, 4)).astype(np.float32)
    nudged = x.copy()
    nudged[0, 0, 0] += 1.0  # one pixel in a corner
    out, moved = np.asarray(layer(x)), np.asarray(layer(nudged))
    assert out.shape == x.shape and np.isfinite(out).all()
    # the far corner feels it in one layer (a 3 x 3 convolution reaches 1 px)
    assert np.abs(moved[0, 8:, 12:] - out[0, 8:, 12:]).max() > 1e-4


def test_conditional_discriminator_sees_only_the_hole():
    """Generated pixels outside the hole must not reach the conditional GAN's discriminator."""
    damaged, mask, _ = _batch(2)
    a = np.random.default_rng(1).random(damaged.shape).astype(np.float32)
    b = np.where(mask > 0, a, 1.0 - a)  # the same inside the holes, different outside
    for conditional, same in ((True, True), (False, False)):
        view = build_gan(SMALL, conditional).critic_view
        assert np.array_equal(np.asarray(view(a, damaged, mask)),
                              np.asarray(view(b, damaged, mask))) == same


def test_checkpoint_restores_both_networks_and_optimizers(tmp_path):
    model = compile_gan(_narrow_gan(conditional=True), decay_steps=10, jit_compile=False)
    damaged, mask, image = _batch()
    model.fit((damaged, mask), image, batch_size=2, epochs=1, verbose=0)
    model.save(tmp_path / "last.keras")
    restored = keras.models.load_model(tmp_path / "last.keras")
    assert restored.conditional and int(restored.g_optimizer.iterations) == 2
    assert int(restored.d_optimizer.iterations) == 2
    for mine, theirs in ((model.g_optimizer, restored.g_optimizer),
                         (model.d_optimizer, restored.d_optimizer),
                         (model.generator, restored.generator),
                         (model.discriminator, restored.discriminator)):
        assert all(np.array_equal(a.numpy(), b.numpy())
                   for a, b in zip(mine.variables, theirs.variables))


def test_a_nan_stops_training_with_a_clear_message(tmp_path):
    class FakeRun:
        folder, config = tmp_path, {"name": "x"}
        epochs_done = 0

        def best_val_loss(self):
            return 1.0
    callback = RunCallback(FakeRun(), samples=None)
    callback.on_train_batch_end(0, {"loss": 0.1, "d_loss": 0.7})  # finite: nothing happens
    with pytest.raises(UserError, match="unstable in epoch 1, step 4 .*d_loss = nan"):
        callback.on_train_batch_end(3, {"loss": 0.1, "d_loss": float("nan")})


TINY = ["--image-size", "64x96", "--steps-per-epoch", "2", "--batch-size", "2"]


@pytest.mark.parametrize("script, mask", [("train_gan.py", "mixed"), ("train_cgan.py", "centre"),
                                          ("train_fourier.py", "wide")])
@pytest.mark.slow
def test_scripts_run_end_to_end(script, mask, tmp_path):
    write_paintings(tmp_path / "data" / "train", 6, seed=1)
    write_paintings(tmp_path / "data" / "val", 2, seed=2)
    runs = tmp_path / "runs"
    help_text = run_script(script, "--help").stdout
    for option in ("--d-lr", "--adv-weight", "--rec-weight", "--fm-weight", "--resume", "--mask"):
        assert option in help_text
    # XLA is tried on the GAN's step; the cGAN runs the same step uncompiled, to save the
    # compile's time in the suite
    jit = [] if script == "train_gan.py" else ["--no-jit"]
    if script == "train_fourier.py":
        assert "--r1-weight" in help_text and "--hole-share" in help_text
    result = run_script(script, "--data", tmp_path / "data", "--name", "tiny", "--runs-dir",
                        runs, *TINY, "--epochs", "1", *jit)
    assert result.returncode == 0, result.stderr
    run = runs / "tiny"
    assert json.loads((run / "config.json").read_text())["mask"] == mask
    generator = keras.models.load_model(run / "model.keras", safe_mode=True)
    assert [tuple(t.shape[1:]) for t in generator.inputs] == [(64, 96, 3), (64, 96, 1)]
    discriminator = keras.models.load_model(run / "discriminator.keras", safe_mode=True)
    assert discriminator.output.shape[-1] == 1

    # the second epoch, resumed: both networks and both optimizers carried over (the GAN, the
    # cGAN and the Fourier inpainter resume through the same AdversarialInpainter, so the
    # Fourier inpainter's resume stands for the three: the GAN's run is the XLA one, whose
    # second compile would cost the suite 12 s, and the cGAN's would repeat it)
    epochs = 1
    if script == "train_fourier.py":
        epochs = 2
        result = run_script(script, "--name", "tiny", "--runs-dir", runs, "--resume",
                            "--epochs", "2")
        assert result.returncode == 0, result.stderr
    with open(run / "log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == epochs
    assert {"loss", "val_loss", "g_adv", "d_loss", "d_acc", "d_perfect"} <= set(rows[0])
    assert (run / "loss.png").stat().st_size > 0
    assert (run / "samples" / f"epoch_{epochs:04d}.png").exists()
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    checkpoint = keras.models.load_model(run / "checkpoints" / state["checkpoint"])
    assert int(checkpoint.g_optimizer.iterations) == int(checkpoint.d_optimizer.iterations) \
        == 2 * epochs
