"""Train the Context Encoder to fill artificially damaged paintings.

Writes runs/<name>/: model.keras (best on validation), checkpoints, samples/epoch_XXXX.png,
log.csv, loss.png and config.json.

examples:
  python train_context_encoder.py                                  # scikit-image's samples
  python train_context_encoder.py --data ~/paintings --name mine   # your own paintings
  python train_context_encoder.py --name mine --resume --epochs 60 # continue a stopped run
"""
from training import recipes
from utils import cli


def parse_args(argv=None):
    # About 35 minutes on a 2-core CPU. pretrained/README.md has the recipe of the shipped model.
    return cli.parse_training_args(recipes.inpainting_parser(__doc__), argv)


def main(args):
    from models.context_encoder import build_context_encoder
    recipes.train_context_encoder(args, build_context_encoder)


if __name__ == "__main__":
    cli.run(main, parse_args)
