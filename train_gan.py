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
from training import recipes
from utils import cli


def parse_args(argv=None):
    return cli.parse_training_args(recipes.inpainting_parser(__doc__, adversarial=True), argv)


def main(args):
    recipes.train_gan(args)


if __name__ == "__main__":
    cli.run(main, parse_args)
