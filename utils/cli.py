"""Command-line helpers: the training options every train script shares, and clean error exits."""
import argparse
import logging
import sys

from utils.images import UserError, parse_size
from utils.masks import MASK_KINDS


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def parser(doc):
    """An ArgumentParser whose description is the script's docstring, showing every default."""
    return argparse.ArgumentParser(description=doc, formatter_class=_Formatter)


def add_training_args(p, epochs, steps_per_epoch, batch_size, lr, mask="mixed"):
    """The options shared by every train_*.py script, with that script's defaults."""
    p.add_argument("--data", metavar="DIR",
                   help="folder of paintings (uses DIR/train and DIR/val when both exist, else a "
                        "seeded split); default: images in data/, else scikit-image's samples")
    p.add_argument("--epochs", type=int, help=f"epochs to train in total, counting those of a "
                   f"resumed run (default: {epochs}; a resumed run keeps its own)")
    p.set_defaults(default_epochs=epochs)
    p.add_argument("--steps-per-epoch", type=int, default=steps_per_epoch,
                   help="batches per epoch (the data is repeated and re-augmented endlessly)")
    p.add_argument("--batch-size", type=int, default=batch_size, help="images per batch")
    p.add_argument("--mask", choices=sorted(MASK_KINDS), default=mask,
                   help="artificial damage: tiny flakes, the centre block, irregular paint "
                        "loss, or one of them per image")
    p.add_argument("--lr", type=float, default=lr, help="Adam's initial learning rate; it falls "
                   "along a cosine to 5%% of this by the last epoch")
    p.add_argument("--hole-weight", type=float, default=1.0,
                   help="loss weight of missing pixels relative to known ones (1 = plain MSE)")
    p.add_argument("--image-size", type=parse_size, default="256x384", metavar="HxW",
                   help="height x width that images are resized to (multiples of 32)")
    p.add_argument("--no-augment", action="store_true",
                   help="turn off random shift, shear, zoom and flip")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, masks and weights")
    p.add_argument("--name", help="run name: outputs go to RUNS_DIR/NAME (default: the model "
                   "name and the start time)")
    p.add_argument("--runs-dir", default="runs", help="folder that holds the run folders")
    p.add_argument("--resume", action="store_true",
                   help="continue the run --name from its last checkpoint, with its saved options "
                        "(only --epochs may change; epochs beyond the original ones train at "
                        "the learning rate's 5%% floor)")
    p.add_argument("--no-jit", action="store_true",
                   help="do not compile the training step with XLA (slower; for debugging)")


def add_adversarial_args(p):
    """The options of the adversarial train scripts (train_gan.py, train_cgan.py)."""
    g = p.add_argument_group("adversarial training (--lr is the generator's learning rate)")
    g.add_argument("--d-lr", type=float, default=2e-4,
                   help="the discriminator's Adam learning rate (beta_1 0.5, same cosine decay)")
    g.add_argument("--rec-weight", type=float, default=0.999,
                   help="weight of the reconstruction (MSE) loss in the generator's loss")
    g.add_argument("--adv-weight", type=float, default=0.001,
                   help="weight of the adversarial loss in the generator's loss (Pathak et al. "
                        "2016 used 0.999 / 0.001)")


def run(main, parse_args, argv=None):
    """Call main(parse_args(argv)); a UserError becomes one line on stderr and exit status 2."""
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.INFO)
    try:
        args = parse_args(argv)
        return main(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
