"""Train Context Encoder 2: the Context Encoder with a channel-wise fully-connected bottleneck
that joins distant regions. Same options, run folder and behaviour as train_context_encoder.py.

examples:
  python train_context_encoder2.py                                  # scikit-image's samples
  python train_context_encoder2.py --data ~/paintings --name mine2  # your own paintings
  python train_context_encoder2.py --name mine2 --resume --epochs 60
"""
from training import recipes
from utils import cli


def parse_args(argv=None):
    return cli.parse_training_args(recipes.inpainting_parser(__doc__), argv)


def main(args):
    from models.context_encoder import build_context_encoder2
    recipes.train_context_encoder(args, build_context_encoder2)


if __name__ == "__main__":
    cli.run(main, parse_args)
