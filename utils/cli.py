"""Command-line helpers: the training options every train script shares, and clean error exits."""
import argparse
import logging
import sys

from utils import env
from utils.errors import UserError
from utils.images import parse_size
from utils.masks import MASK_KINDS


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    def _get_help_string(self, action):
        # an option without a default says in its own help what happens without it
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """A bad option is one line, like every other error, and exit status 2."""
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)

    def parse_args(self, args=None, namespace=None):
        # "--roi -5,10,20,20" would read "-5,10,20,20" as an option; join such values to their
        # option so that the option's own check can say what is wrong with them.
        args = list(sys.argv[1:] if args is None else args)
        joined = []
        for arg in map(str, args):
            if joined and joined[-1] in self._value_options and arg[:1] == "-" and \
                    arg[1:2].isdigit():
                joined[-1] = f"{joined[-1]}={arg}"
            else:
                joined.append(arg)
        return super().parse_args(joined, namespace)

    @property
    def _value_options(self):
        return {s for a in self._actions if a.nargs is None and a.option_strings
                and not isinstance(a, (argparse._StoreConstAction, argparse._StoreTrueAction,
                                       argparse._StoreFalseAction, argparse._HelpAction))
                for s in a.option_strings}


def parser(doc):
    """An ArgumentParser whose description is the script's docstring, showing every default."""
    return _Parser(description=doc, formatter_class=_Formatter)


def positive(kind, zero=False):
    """An argparse type: a number of kind (int or float) above 0 (or at least 0 with zero)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        if value < 0 or (value == 0 and not zero):
            bound = "at least 0" if zero else "above 0"
            raise argparse.ArgumentTypeError(f"{text} must be {bound}")
        return value
    parse.__name__ = kind.__name__
    return parse


def within(kind, low, high, what):
    """An argparse type: a number of kind from low to high, both included (what it is, for the
    message)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {what}")
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"{text}: a {what} is from {low} to {high}")
        return value
    parse.__name__ = what
    return parse


port = within(int, 0, 65535, "port number")  # 0: any free port
fraction = within(float, 0.0, 1.0, "share")


def point(text):
    """An argparse type: a point X,Y in pixels, both at least 0."""
    try:
        x, y = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected X,Y in pixels, e.g. 120,45")
    if x < 0 or y < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: X and Y must be at least 0")
    return x, y


def add_training_args(p, epochs, steps_per_epoch, batch_size, lr, mask="mixed",
                      image_size="256x384", inpainting=True):
    """The options shared by every train_*.py script, with that script's defaults (the
    artificial damage and augmentation options only for inpainting models)."""
    p.add_argument("--data", metavar="DIR",
                   help="folder of paintings (uses DIR/train and DIR/val when both exist, else a "
                        "seeded split); default: images in data/, else scikit-image's samples")
    p.add_argument("--epochs", type=positive(int),
                   help=f"epochs to train in total, counting those of a "
                   f"resumed run (default: {epochs}; a resumed run keeps its own)")
    p.set_defaults(default_epochs=epochs)
    p.add_argument("--steps-per-epoch", type=positive(int), default=steps_per_epoch,
                   help="batches per epoch (the data is repeated and re-augmented endlessly)")
    p.add_argument("--batch-size", type=positive(int), default=batch_size,
                   help="images per batch on each device (with --distribute, the global batch "
                        "is this times the replicas)")
    if inpainting:
        p.add_argument("--mask", choices=sorted(MASK_KINDS), default=mask,
                       help="artificial damage: tiny flakes, the centre block, irregular paint "
                            "loss, or one of them per image")
    p.add_argument("--lr", type=positive(float), default=lr,
                   help="Adam's initial learning rate; it falls "
                   "along a cosine to 5%% of this by the last epoch")
    if inpainting:
        p.add_argument("--hole-weight", type=positive(float), default=1.0,
                       help="loss weight of missing pixels relative to known ones (1 = plain MSE)")
        p.add_argument("--image-size", type=parse_size, default=image_size, metavar="HxW",
                       help="height x width that images are resized to (multiples of 32)")
        p.add_argument("--no-augment", action="store_true",
                       help="turn off random shift, shear, zoom and flip")
    else:
        p.add_argument("--image-size", type=parse_size, default=image_size, metavar="HxW",
                       help="height x width of the training crops (multiples of 32), cut from "
                            "paintings resized to twice this")
    p.add_argument("--init", metavar="PATH",
                   help="start from this saved model's weights (same architecture, e.g. a "
                        "shipped model in pretrained/) instead of a fresh initialisation: "
                        "fine-tuning")
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
    add_distribute_args(p)


def add_distribute_args(p):
    """The options that spread a train script over several devices or machines."""
    from utils.distribute import LR_SCALINGS, MODES
    g = p.add_argument_group("several devices or machines (tf.distribute; see docs/distributed.md)")
    g.add_argument("--distribute", choices=MODES, default="none",
                   help="none: one device; mirrored: every GPU of this machine (without GPUs, "
                        "the CPU's logical devices); multi-worker: the machines that the "
                        "TF_CONFIG environment variable lists, the same command on each")
    g.add_argument("--lr-scaling", choices=sorted(LR_SCALINGS), default="sqrt",
                   help="how the learning rates grow with the replicas (the global batch): by "
                        "their square root (for Adam), linearly, or not at all")
    g.add_argument("--cpu-devices", type=positive(int), metavar="N",
                   help="split the CPU into N logical devices, to try --distribute mirrored "
                        "on a machine without GPUs (the same cores do the work)")


def add_adversarial_args(p):
    """The options of the adversarial train scripts (train_gan.py, train_cgan.py)."""
    g = p.add_argument_group("adversarial training (--lr is the generator's learning rate)")
    g.add_argument("--d-lr", type=positive(float), default=2e-4,
                   help="the discriminator's Adam learning rate (beta_1 0.5, same cosine decay)")
    g.add_argument("--rec-weight", type=positive(float, zero=True), default=0.999,
                   help="weight of the reconstruction (MSE) loss in the generator's loss")
    g.add_argument("--adv-weight", type=positive(float, zero=True), default=0.001,
                   help="weight of the adversarial loss in the generator's loss (Pathak et al. "
                        "2016 used 0.999 / 0.001)")
    g.add_argument("--fm-weight", type=positive(float, zero=True), default=0.0,
                   help="weight of the feature-matching loss: the discriminator's features of the "
                        "real and the generated painting brought together (default 0: off)")
    g.add_argument("--rec-loss", choices=["mse", "l1"], default="mse",
                   help="the reconstruction loss (the log's loss is the MSE either way)")
    g.add_argument("--hole-share", type=fraction, default=0.0,
                   help="a discriminator patch is judged fake when at least this share of it is "
                        "missing; 0: every patch that sees a missing pixel, and its neighbours "
                        "(the first recipes; bench/bench_discriminator.py compares them)")
    g.add_argument("--r1-weight", type=positive(float, zero=True), default=0.0,
                   help="weight of the R1 penalty on the discriminator's gradient on real "
                        "paintings (0: off)")


def parse_training_args(p, argv=None):
    """Parse a train script's options, remembering the defaults so that --resume can tell an
    option the user changed from one left alone."""
    args = p.parse_args(argv)
    args.option_defaults = vars(p.parse_args([]))
    return args


def run(main, parse_args, argv=None, restoring=False):
    """Call main(parse_args(argv)) with TensorFlow's environment prepared (utils/env.py;
    restoring: see env.prepare); a UserError becomes one line on stderr and exit status 2."""
    env.prepare(restoring)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.INFO)
    try:
        args = parse_args(argv)
        return main(args)
    except UserError as error:
        print(f"error: {printable(error)}", file=sys.stderr)
        sys.exit(2)


def printable(text):
    """text with every control character (a newline or an escape in a file's name) written as
    its escape (\\n, \\x1b), so that a name can neither forge a line of the tool's own nor
    drive the terminal."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(text))
