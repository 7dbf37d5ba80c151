"""Train the GAN: the Context Encoder's generator with a discriminator that tells real paintings
from its whole output image (reconstruction MSE + adversarial binary cross-entropy).

Writes runs/<name>/: model.keras (the generator, best on validation MSE), discriminator.keras,
checkpoints (both networks and both optimizers, for --resume), samples/epoch_XXXX.png, log.csv
(loss = reconstruction MSE, g_adv, d_loss, d_acc, d_perfect), loss.png and config.json.

examples:
  python train_gan.py                                         # scikit-image's samples
  python train_gan.py --data ~/paintings --name mygan --adv-weight 0.003
  python train_gan.py --name mygan --resume --epochs 60       # continue a stopped run
"""
import utils  # noqa: F401  (sets TensorFlow's environment before it is imported)
from models.gan import build_gan, compile_gan
from utils import cli
from utils.training import train


def parse_args(argv=None, doc=__doc__, mask="mixed"):
    p = cli.parser(doc)
    # A step costs 1.55 times the Context Encoder's (bench/); 32 steps per epoch keep the default
    # run near its 35 minutes on a 2-core CPU.
    cli.add_training_args(p, epochs=30, steps_per_epoch=32, batch_size=8, lr=1e-3, mask=mask)
    cli.add_adversarial_args(p)
    return cli.parse_training_args(p, argv)


def main(args, conditional=False):
    def make_model(config, input_shape, decay_steps):
        return compile_gan(build_gan(input_shape, conditional), config["lr"], config["d_lr"],
                           config["rec_weight"], config["adv_weight"],
                           config.get("fm_weight", 0.0),  # runs from before the option: off
                           decay_steps, jit_compile=not config["no_jit"])
    train(args, "cgan" if conditional else "gan", make_model)


if __name__ == "__main__":
    cli.run(main, parse_args)
