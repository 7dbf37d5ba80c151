"""Train the Context Encoder to fill artificially damaged paintings.

Writes runs/<name>/: model.keras (best on validation), checkpoints, samples/epoch_XXXX.png,
log.csv, loss.png and config.json.

examples:
  python train_context_encoder.py                                  # scikit-image's samples
  python train_context_encoder.py --data ~/paintings --name mine   # your own paintings
  python train_context_encoder.py --name mine --resume --epochs 60 # continue a stopped run
"""
import utils  # noqa: F401  (sets TensorFlow's environment before it is imported)
from models.context_encoder import build_context_encoder, compile_context_encoder
from utils import cli
from utils.training import train


def parse_args(argv=None, doc=__doc__):
    p = cli.parser(doc)
    # About 35 minutes on a 2-core CPU. See the README for the recipe of the shipped model.
    cli.add_training_args(p, epochs=30, steps_per_epoch=50, batch_size=8, lr=1e-3)
    return cli.parse_training_args(p, argv)


def main(args, build=build_context_encoder):
    """Train the model that build(input_shape) makes; the Context Encoder by default."""
    def make_model(config, input_shape, decay_steps):
        return compile_context_encoder(build(input_shape), config["lr"], decay_steps,
                                       jit_compile=not config["no_jit"])
    train(args, build.__name__.removeprefix("build_"), make_model)


if __name__ == "__main__":
    cli.run(main, parse_args)
