"""What each train script is: its options with their defaults and the model it builds. The
scripts (train_*.py) are the user's verbs; the bodies that two of them share live here, so that
no script imports another."""
from utils import cli


def inpainting_parser(doc, mask="mixed", adversarial=False):
    """The options of an inpainting train script: the Context Encoders' or, adversarial, the
    GANs' (whose step costs 1.55 times the Context Encoder's: bench/; 32 steps per epoch keep
    the default run near the same 35 minutes on a 2-core CPU)."""
    p = cli.parser(doc)
    cli.add_training_args(p, epochs=30, steps_per_epoch=32 if adversarial else 50, batch_size=8,
                          lr=1e-3, mask=mask)
    if adversarial:
        cli.add_adversarial_args(p)
    return p


def train_context_encoder(args, build):
    """Train the model that build(input_shape) makes (a Context Encoder)."""
    from models.context_encoder import compile_context_encoder
    from training.loop import train

    def make_model(config, input_shape, decay_steps):
        return compile_context_encoder(build(input_shape), config["lr"], decay_steps,
                                       jit_compile=not config["no_jit"])
    train(args, build.__name__.removeprefix("build_"), make_model)


def train_gan(args, conditional=False):
    """Train the GAN, or with conditional the context-conditional GAN."""
    from models.gan import build_gan, compile_gan
    from training.loop import train

    def make_model(config, input_shape, decay_steps):
        return compile_gan(build_gan(input_shape, conditional), config["lr"], config["d_lr"],
                           config["rec_weight"], config["adv_weight"],
                           config.get("fm_weight", 0.0),  # runs from before the option: off
                           decay_steps, jit_compile=not config["no_jit"],
                           **_adversarial_options(config))
    train(args, "cgan" if conditional else "gan", make_model)


def _adversarial_options(config):
    """The adversarial options added after the first recipes; a run from before them has their
    old behaviour."""
    return {"hole_share": config.get("hole_share", 0.0), "r1_weight": config.get("r1_weight", 0.0),
            "rec_loss": config.get("rec_loss", "mse")}


def fourier_parser(doc):
    """The options of train_fourier.py: the conditional GAN's, with the Fourier recipe's
    defaults (L1, patches judged fake only where mostly missing, R1, feature matching)."""
    p = inpainting_parser(doc, mask="wide", adversarial=True)
    p.add_argument("--blocks", type=cli.positive(int), default=3,
                   help="Fourier residual blocks at the bottleneck")
    p.set_defaults(rec_loss="l1", hole_share=0.5, r1_weight=0.01, adv_weight=0.01,
                   fm_weight=1.0, rec_weight=1.0)
    return p


def train_fourier(args):
    """Train the Fourier inpainter as a conditional GAN (models/ffc.py)."""
    from models.ffc import build_fourier_inpainter
    from models.gan import build_gan, compile_gan
    from training.loop import train

    def make_model(config, input_shape, decay_steps):
        gan = build_gan(input_shape, conditional=True,
                        generator=build_fourier_inpainter(input_shape, blocks=config["blocks"],
                                                          name="generator"))
        return compile_gan(gan, config["lr"], config["d_lr"], config["rec_weight"],
                           config["adv_weight"], config["fm_weight"], decay_steps,
                           jit_compile=not config["no_jit"], **_adversarial_options(config))
    train(args, "fourier", make_model)
