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
from utils.data import load_paintings, training_dataset, validation_data
from utils.training import Run, fit


def parse_args(argv=None, doc=__doc__):
    p = cli.parser(doc)
    # About 35 minutes on a 2-core CPU. See the README for the recipe of the shipped model.
    cli.add_training_args(p, epochs=30, steps_per_epoch=50, batch_size=8, lr=1e-3)
    return p.parse_args(argv)


def main(args, build=build_context_encoder):
    """Train the model that build(input_shape) makes; the Context Encoder by default."""
    run = Run.start(args, build.__name__.removeprefix("build_"))
    c = run.config
    (train_images, _), (val_images, _), where = load_paintings(c["data"], run.image_size, c["seed"])
    print(where)
    run.save_config(data_source=where)
    start = run.epochs_done
    train_ds = training_dataset(train_images, c["batch_size"], c["mask"], c["seed"],
                                augment=not c["no_augment"], hole_weight=c["hole_weight"],
                                start_batch=start * c["steps_per_epoch"])
    val_data = validation_data(val_images, c["mask"], c["seed"], c["hole_weight"])
    model = run.restore() or compile_context_encoder(
        build((*run.image_size, 3)), c["lr"],
        decay_steps=c["epochs"] * c["steps_per_epoch"], jit_compile=not c["no_jit"])
    fit(model, train_ds, val_data, run, c["steps_per_epoch"], c["batch_size"])
    print(f"done: {run.folder / 'model.keras'} (samples in {run.folder / 'samples'})")


if __name__ == "__main__":
    cli.run(main, parse_args)
