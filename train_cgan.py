"""Train the context-conditional GAN (after Denton et al. 2016): the discriminator judges the
input with only its holes replaced by the generator's pixels, so the generator learns to paint a
hole that fits its surroundings. Same options, run folder and behaviour as train_gan.py; the mask
defaults to the white centre block, and every kind works.

examples:
  python train_cgan.py                                        # scikit-image's samples
  python train_cgan.py --data ~/paintings --name mycgan --mask blobs
  python train_cgan.py --name mycgan --resume --epochs 60
"""
from training import recipes
from utils import cli


def parse_args(argv=None):
    return cli.parse_training_args(
        recipes.inpainting_parser(__doc__, mask="centre", adversarial=True), argv)


def main(args):
    recipes.train_gan(args, conditional=True)


if __name__ == "__main__":
    cli.run(main, parse_args)
