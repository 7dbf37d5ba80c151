"""What every training run shares: its folder, its saved options, checkpoints, samples, logs,
resuming, and a clean stop on Ctrl-C.

runs/<name>/
    config.json              the resolved options (and where the data came from)
    model.keras              the model with the best validation loss, uncompiled, for inference
    checkpoints/last.keras   the latest model with its optimizer state, for --resume
    checkpoints/state.json   how many epochs that checkpoint has finished
    samples/epoch_XXXX.png   damaged | output | composite | original for a fixed validation batch
    log.csv, loss.png        losses per epoch
"""
import json
import math
import signal
import sys
import time
from pathlib import Path

import keras
import numpy as np

from utils.images import UserError
from utils.masks import composite
from utils.plotting import image_grid, loss_plot

SAMPLE_ROWS = 4


class Run:
    """A run folder and the options it was started with."""

    def __init__(self, folder, config):
        self.folder, self.config = Path(folder), config
        self.checkpoint = self.folder / "checkpoints" / "last.keras"
        self.state_file = self.folder / "checkpoints" / "state.json"

    @classmethod
    def start(cls, args, model_name):
        """Create runs/<name>/ for new options, or reopen it for --resume."""
        options = {k: v for k, v in vars(args).items()
                   if k not in ("resume", "runs_dir", "default_epochs")}
        if args.resume:
            if not args.name:
                raise UserError("--resume needs --name of the run to continue")
            folder = Path(args.runs_dir) / args.name
            if not (folder / "checkpoints" / "state.json").exists():
                raise UserError(f"no checkpoint to resume in {folder}")
            config = json.loads((folder / "config.json").read_text())
            config["epochs"] = args.epochs or config["epochs"]
        else:
            name = args.name or f"{model_name}-{time.strftime('%Y%m%d-%H%M%S')}"
            folder = Path(args.runs_dir) / name
            if folder.exists():
                raise UserError(f"run folder {folder} already exists: pass --resume to continue "
                                f"it, or another --name")
            config = {**options, "epochs": args.epochs or args.default_epochs,
                      "name": name, "model": model_name,
                      "image_size": list(args.image_size)}
        run = cls(folder, config)
        (folder / "samples").mkdir(parents=True, exist_ok=True)
        run.save_config()
        keras.utils.set_random_seed(config["seed"])
        return run

    @property
    def image_size(self):
        return tuple(self.config["image_size"])

    @property
    def epochs_done(self):
        if not self.state_file.exists():
            return 0
        return json.loads(self.state_file.read_text())["epochs"]

    def save_config(self, **extra):
        self.config.update(extra)
        (self.folder / "config.json").write_text(json.dumps(self.config, indent=2) + "\n")

    def restore(self):
        """The checkpointed model with its optimizer state, or None for a new run."""
        if not self.state_file.exists():
            return None
        return keras.models.load_model(self.checkpoint)

    def save_checkpoint(self, model, epochs, best):
        """Write the checkpoint beside the old one and rename, so a kill never leaves half a file."""
        self.checkpoint.parent.mkdir(exist_ok=True)
        partial = self.checkpoint.with_name("last.partial.keras")
        model.save(partial)
        partial.replace(self.checkpoint)
        self.state_file.write_text(json.dumps({"epochs": epochs, "best_val_loss": best}) + "\n")

    def best_val_loss(self):
        if not self.state_file.exists():
            return math.inf
        return json.loads(self.state_file.read_text()).get("best_val_loss", math.inf)


def save_inference_model(model, path):
    """Save a weights-only copy of model, uncompiled: small, and loadable without the loss."""
    copy = model.__class__.from_config(model.get_config())  # clone_model would recompile it
    copy.set_weights(model.get_weights())
    partial = Path(path).with_name(Path(path).stem + ".partial.keras")
    copy.save(partial)
    partial.replace(path)


def save_exports(model, folder):
    """The run's files for users: model.keras (what restore.py and evaluate.py load) and, for a
    model made of parts, the others beside it (a GAN's discriminator.keras)."""
    exports = model.exports() if hasattr(model, "exports") else {"model.keras": model}
    for name, part in exports.items():
        save_inference_model(part, Path(folder) / name)


class RunCallback(keras.callbacks.Callback):
    """After every epoch: samples, checkpoint, best model, loss plot."""

    def __init__(self, run, samples):
        super().__init__()
        self.run, self.samples = run, samples
        self.best = run.best_val_loss()
        self.epochs_done = run.epochs_done

    def _stop_if_not_finite(self, logs, where):
        bad = {k: float(v) for k, v in (logs or {}).items() if not np.isfinite(float(v))}
        if bad:
            raise UserError(f"training became unstable in epoch {self.epochs_done + 1}, {where} "
                            f"({', '.join(f'{k} = {v}' for k, v in bad.items())}); try a lower "
                            f"--lr (the last good checkpoint is kept)")

    def on_train_batch_end(self, batch, logs=None):
        # Checked every step, so nothing computed from a NaN is ever saved.
        self._stop_if_not_finite(logs, f"step {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self._stop_if_not_finite(logs, "validation")
        self.epochs_done = epoch + 1
        if logs.get("d_perfect", 0.0) > 0.5:
            print(f"\nwarning: the discriminator classified every patch right in "
                  f"{logs['d_perfect']:.0%} of this epoch's steps: it has won, and the generator "
                  f"learns little from it (try a lower --d-lr or a higher --adv-weight)",
                  file=sys.stderr)
        (damaged, mask), original, _ = self.samples
        output = self.model.predict([damaged, mask], verbose=0)
        rows = list(zip(damaged, output, composite(output, original, mask), original))
        image_grid(rows, ["damaged", "output", "composite", "original"],
                   self.run.folder / "samples" / f"epoch_{epoch + 1:04d}.png")
        val = logs.get("val_loss", logs.get("loss", math.inf))
        # The datasets are small enough to overfit, so the model a user gets is the epoch that
        # did best on validation, not simply the last one.
        if val < self.best:
            self.best = float(val)
            save_exports(self.model, self.run.folder)
        elif val > 10 * self.best:
            print(f"\nwarning: validation loss {val:.4g} is over 10x the best {self.best:.4g}: "
                  f"training has probably diverged (try a lower --lr); model.keras keeps the "
                  f"best epoch", file=sys.stderr)
        self.run.save_checkpoint(self.model, epoch + 1, self.best)
        loss_plot(self.run.folder / "log.csv", self.run.folder / "loss.png",
                  title=self.run.config["name"])


def fit(model, train_ds, val_data, run, steps_per_epoch, batch_size):
    """Train to run.config['epochs'], resuming from the checkpoint's epoch. Ctrl-C saves a
    checkpoint of the weights so far and exits with status 130."""
    (damaged, mask), original, weight = val_data
    rows = min(SAMPLE_ROWS, len(original))
    samples = ((damaged[:rows], mask[:rows]), original[:rows], weight[:rows])
    callback = RunCallback(run, samples)
    start = run.epochs_done
    if start >= run.config["epochs"]:
        print(f"{run.folder} has already trained {start} epochs; pass a larger --epochs")
        return
    if start == 0:
        # Score the untrained model first: the saved model is then never worse than the one
        # training started from (for the Context Encoder, the pyramid fill).
        callback.best = float(model.evaluate(*val_data[:2], sample_weight=weight,
                                             batch_size=batch_size, verbose=0,
                                             return_dict=True)["loss"])
        save_exports(model, run.folder)
        print(f"before training: val_loss {callback.best:.6g}")
    callbacks = [keras.callbacks.CSVLogger(run.folder / "log.csv", append=start > 0), callback]
    # Ctrl-C arrives as SIGINT; turn it into KeyboardInterrupt even where a library replaced the
    # default handler, so the checkpoint below is always written.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        model.fit(train_ds, epochs=run.config["epochs"], initial_epoch=start,
                  steps_per_epoch=steps_per_epoch, validation_data=val_data,
                  validation_batch_size=batch_size, callbacks=callbacks, shuffle=False,
                  verbose=1)
    except KeyboardInterrupt:
        run.save_checkpoint(model, callback.epochs_done, callback.best)
        print(f"\ninterrupted: saved a checkpoint after {callback.epochs_done} finished epochs; "
              f"continue with --name {run.config['name']} --resume", file=sys.stderr)
        sys.exit(130)


def train(args, model_name, make_model):
    """Everything a train script does after parsing its options: the run folder, the data, the
    model (make_model(config, input_shape, decay_steps) -> a compiled model, unless a checkpoint
    is resumed) and training."""
    from utils.data import load_paintings, training_dataset, validation_data
    run = Run.start(args, model_name)
    c = run.config
    (train_images, _), (val_images, _), where = load_paintings(c["data"], run.image_size, c["seed"])
    print(where)
    run.save_config(data_source=where)
    train_ds = training_dataset(train_images, c["batch_size"], c["mask"], c["seed"],
                                augment=not c["no_augment"], hole_weight=c["hole_weight"],
                                start_batch=run.epochs_done * c["steps_per_epoch"])
    val_data = validation_data(val_images, c["mask"], c["seed"], c["hole_weight"])
    model = run.restore() or make_model(c, (*run.image_size, 3),
                                        c["epochs"] * c["steps_per_epoch"])
    fit(model, train_ds, val_data, run, c["steps_per_epoch"], c["batch_size"])
    print(f"done: {run.folder / 'model.keras'} (samples in {run.folder / 'samples'})")
