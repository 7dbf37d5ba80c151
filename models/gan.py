"""The GAN and the context-conditional GAN (after Denton et al. 2016): a generator that fills the
holes, a discriminator that tells real paintings from filled ones, and one model that trains both.

The two differ only in what the discriminator is shown. The plain GAN's sees the generator's whole
output image; the conditional GAN's sees the `Composite` of the input with the generated pixels in
the holes only, so the generator is judged on how well the hole it paints fits its surroundings.
Real paintings are shown unchanged to both.
"""
import keras
import tensorflow as tf
from keras import layers, ops

from models.context_encoder import build_context_encoder
from models.layers import Composite
from models.optimizers import Adam
from utils.distribute import replica_share, replica_sum
from utils.images import IMAGE_SIZE


def build_generator(input_shape=(*IMAGE_SIZE, 3), **hyperparameters):
    """The Context Encoder (see models/context_encoder.py), so that a comparison of the GANs with
    it measures the adversarial loss alone: (damaged, mask) -> image in [0, 1]. 3.3 M parameters."""
    return build_context_encoder(input_shape, name="generator", **hyperparameters)


def build_discriminator(input_shape=(*IMAGE_SIZE, 3), width=32, depth=4, max_channels=256,
                        name="discriminator"):
    """A patch discriminator: depth strided 4 x 4 convolutions with LeakyReLU, then one logit per
    patch (16 x 24 patches at 256 x 384, each seeing 78 x 78 pixels; positive = real).

    Logits, not a sigmoid: the losses use binary cross-entropy from logits, which stays finite
    where a saturated sigmoid would give log(0). No batch normalisation, which would let the
    discriminator tell real from fake batches by their statistics. 0.7 M parameters, 1.3 GFLOP
    per 256 x 384 image forward.
    """
    image = keras.Input(input_shape, name="image")
    x = image
    for level in range(depth):
        x = layers.Conv2D(min(width * 2**level, max_channels), 4, strides=2, padding="same",
                          name=f"conv_{level}")(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 3, padding="same", name="logits")(x)
    return keras.Model(image, logits, name=name)


@keras.saving.register_keras_serializable(package="paintings")
class AdversarialInpainter(keras.Model):
    """Trains a generator and a discriminator together with plain fit() (the keras-io DCGAN
    pattern: compile() takes two optimizers, train_step() updates both, Mean trackers log).

    Generator loss = rec_weight * reconstruction (MSE, per-pixel sample weights) + adv_weight *
    adversarial (binary cross-entropy of the discriminator calling the fake real), the defaults of
    Pathak et al. 2016, + fm_weight * feature matching (the mean absolute difference between the
    discriminator's features of the real painting and of the generated view, averaged over its
    layers; pix2pixHD, Wang et al. 2018, eq. 4): a dense signal, at every position and scale the
    discriminator looks at, that asks for the statistics of real paint and needs no downloaded
    network. Discriminator loss = cross-entropy on real and fake patches.

    Labels are per patch, and only the patches that see a hole are judged as fake (as in LaMa,
    Suvorov et al. 2022): the rest of a damaged painting is the painting's own paint, and calling
    it fake would teach the discriminator nothing but noise; calling it real drowned the few hole
    patches (measured: the discriminator learned to call everything real). So the discriminator's
    loss is the mean over real patches plus the mean over fake hole patches, and the generator's
    adversarial loss is taken over the hole patches too.

    On several replicas (tf.distribute) every loss is this replica's share of the loss over the
    global batch (the optimizers sum the replicas' gradients): a plain mean is divided by the
    replicas, a mean over the hole patches divides by the hole patches of the whole global batch,
    and the logged figures are those of the global batch, so one step on two replicas of half a
    batch is the step one device takes on the whole batch.

    Logged per epoch: loss (the reconstruction MSE, the same figure the Context Encoder reports,
    and the one validation uses), g_adv, d_loss, d_acc (the discriminator's accuracy: the mean of
    its accuracy on real patches and on fake hole patches) and d_perfect (fraction of steps in
    which it got every one of those patches right: near 1, the discriminator has won and the
    generator learns nothing from it).
    """

    def __init__(self, generator, discriminator, conditional=False, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.conditional = conditional
        self.composite = Composite(name="composite") if conditional else None
        # the discriminator with its hidden features as outputs too (the same weights)
        features = [layer.output for layer in discriminator.layers
                    if isinstance(layer, layers.LeakyReLU)]
        self.critic = keras.Model(discriminator.inputs, [*features, discriminator.outputs[0]])
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "g_adv", "g_fm", "d_loss", "d_acc", "d_perfect")}
        self.built = True  # both networks are functional models, built when they were made

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def critic_view(self, generated, damaged, mask):
        """What the discriminator judges for a generated image."""
        return self.composite(generated, damaged, mask) if self.conditional else generated

    def compile(self, g_optimizer, d_optimizer, rec_weight=0.999, adv_weight=0.001,
                fm_weight=0.0, jit_compile=True, hole_share=0.0, r1_weight=0.0, rec_loss="mse"):
        # No optimizer for super(): Keras would build a third one over both networks' weights.
        super().compile(optimizer=None, jit_compile=jit_compile)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.rec_weight, self.adv_weight, self.fm_weight = rec_weight, adv_weight, fm_weight
        self.hole_share, self.r1_weight, self.rec_loss = hole_share, r1_weight, rec_loss
        # Built now, so a reloaded checkpoint finds the slots its saved state goes into.
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        self._adversarial_compile = {
            "g_optimizer": keras.saving.serialize_keras_object(g_optimizer),
            "d_optimizer": keras.saving.serialize_keras_object(d_optimizer),
            "rec_weight": rec_weight, "adv_weight": adv_weight, "fm_weight": fm_weight,
            "jit_compile": jit_compile, "hole_share": hole_share, "r1_weight": r1_weight,
            "rec_loss": rec_loss}

    def get_compile_config(self):
        return getattr(self, "_adversarial_compile", None)

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("g_optimizer", "d_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def reconstruction(self, generated, image, weight, loss=None):
        """Mean squared error (or, with loss "l1", absolute error) per pixel, weighted by the
        per-pixel sample weights (1 = plain), over this replica's images."""
        difference = generated - image
        error = ops.mean(ops.abs(difference) if (loss or "mse") == "l1" else
                         ops.square(difference), axis=-1)
        if weight is not None:
            error = error * ops.reshape(weight, ops.shape(error))
        return ops.mean(error)

    @staticmethod
    def hole_patches(mask, logits, share=0.0):
        """1 for each discriminator patch judged as fake. share 0 (the first recipes): every
        patch that sees a missing pixel (the mask max-pooled onto the logits' grid) and its
        neighbours; share > 0: the patches whose own cells are at least that share missing. The
        first rule calls patches of almost only real paint fake, labels no discriminator can
        learn (bench/bench_discriminator.py measures it)."""
        stride = (mask.shape[1] // logits.shape[1], mask.shape[2] // logits.shape[2])
        mask = ops.cast(mask, logits.dtype)
        if share:
            covered = ops.average_pool(mask, stride, stride, padding="valid")
            return ops.cast(covered >= share, logits.dtype)
        patches = ops.max_pool(mask, stride, stride, padding="valid")
        return ops.max_pool(patches, 3, 1, padding="same")

    @staticmethod
    def _bce(labels, logits, weights=None):
        """This replica's share of the binary cross-entropy's mean over the global batch (over
        the patches whose weight is 1, with weights)."""
        loss = ops.binary_crossentropy(labels, logits, from_logits=True)
        if weights is None:
            return replica_share(ops.mean(loss))
        return ops.sum(loss * weights) / ops.maximum(replica_sum(ops.sum(weights)), 1.0)

    def train_step(self, data):
        (damaged, mask), image, weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            generated = self.generator([damaged, mask], training=True)
            with tf.GradientTape() as r1_tape:
                r1_tape.watch(image)
                *real_features, real_logits = self.critic(image, training=True)
                real_total = ops.sum(real_logits)
            r1 = 0.0
            if self.r1_weight:
                # R1 (Mescheder et al. 2018): the discriminator's gradient on real paintings
                # kept small, so it cannot win by a cliff the generator cannot climb
                slope = r1_tape.gradient(real_total, image)
                r1 = replica_share(ops.mean(ops.sum(ops.square(slope), axis=(1, 2, 3))))
            *fake_features, fake_logits = self.critic(
                self.critic_view(generated, damaged, mask), training=True)
            holes = self.hole_patches(mask, fake_logits, self.hole_share)
            g_fm = replica_share(ops.mean(ops.stack([
                ops.mean(ops.abs(ops.stop_gradient(real) - fake))
                for real, fake in zip(real_features, fake_features)])))
            d_loss = 0.5 * (self._bce(ops.ones_like(real_logits), real_logits)
                            + self._bce(ops.zeros_like(fake_logits), fake_logits, weights=holes)
                            ) + 0.5 * self.r1_weight * r1
            g_adv = self._bce(ops.ones_like(fake_logits), fake_logits, weights=holes)
            rec = replica_share(self.reconstruction(generated, image, weight, self.rec_loss))
            # the log's loss is the MSE whatever the generator minimises: runs stay comparable
            mse = rec if self.rec_loss == "mse" else replica_share(
                self.reconstruction(generated, image, weight))
            g_loss = self.rec_weight * rec + self.adv_weight * g_adv + self.fm_weight * g_fm
        # Both networks step on the same forward pass: each tape only differentiates towards its
        # own network's weights, so the discriminator's loss never moves the generator.
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        real_right = replica_share(ops.mean(ops.cast(real_logits > 0, "float32")))
        fake_right = ops.sum(ops.cast(fake_logits < 0, "float32") * holes) / ops.maximum(
            replica_sum(ops.sum(holes)), 1.0)
        # The shares summed over the replicas: the global batch's figures, the same on each.
        rec, g_adv, g_fm, d_loss, accuracy = replica_sum(
            [mse, g_adv, g_fm, d_loss, 0.5 * (real_right + fake_right)])
        for name, value in (("loss", rec), ("g_adv", g_adv), ("g_fm", g_fm), ("d_loss", d_loss),
                            ("d_acc", accuracy),
                            ("d_perfect", ops.cast(accuracy == 1.0, "float32"))):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        (damaged, mask), image, weight = keras.utils.unpack_x_y_sample_weight(data)
        generated = self.generator([damaged, mask], training=False)
        # weighted by the images, so that a last, smaller batch (or a replica's smaller share of
        # it) counts for the images it holds
        self.trackers["loss"].update_state(self.reconstruction(generated, image, weight),
                                           sample_weight=ops.shape(image)[0])
        return {"loss": self.trackers["loss"].result()}

    def exports(self):
        """The files a run folder holds for users: the generator and, beside it, the critic."""
        return {"model.keras": self.generator, "discriminator.keras": self.discriminator}

    def get_config(self):
        return {**super().get_config(),
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "conditional": self.conditional}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def build_gan(input_shape=(*IMAGE_SIZE, 3), conditional=False, generator=None,
              discriminator=None):
    """The GAN (conditional=False) or the context-conditional GAN, uncompiled."""
    return AdversarialInpainter(generator or build_generator(input_shape),
                                discriminator or build_discriminator(input_shape),
                                conditional=conditional,
                                name="cgan" if conditional else "gan")


def compile_gan(model, lr=1e-3, d_lr=2e-4, rec_weight=0.999, adv_weight=0.001, fm_weight=0.0,
                decay_steps=None, jit_compile=True, **adversarial):
    """The generator's optimizer is the Context Encoder's (Adam, cosine decay to 5%, clipnorm 1);
    the discriminator's is Adam with beta_1 = 0.5 (Radford et al. 2016), clipped the same way."""
    g_lr, d_lr_schedule = lr, d_lr
    if decay_steps:
        g_lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps, alpha=0.05)
        d_lr_schedule = keras.optimizers.schedules.CosineDecay(d_lr, decay_steps, alpha=0.05)
    model.compile(Adam(g_lr, global_clipnorm=1.0),
                  Adam(d_lr_schedule, beta_1=0.5, global_clipnorm=1.0),
                  rec_weight=rec_weight, adv_weight=adv_weight, fm_weight=fm_weight,
                  jit_compile=jit_compile, **adversarial)
    return model
