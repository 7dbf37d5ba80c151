"""What every training run shares: its folder, its saved options, checkpoints, samples, logs,
resuming, and a clean stop on Ctrl-C.

runs/<name>/
    config.json                   the resolved options (and where the data came from)
    model.keras                   the model with the best validation loss, uncompiled, for inference
    checkpoints/epoch_XXXX.keras  the latest model with its optimizer state, for --resume
    checkpoints/state.json        the epochs that checkpoint finished, its name, the log so far
    samples/epoch_XXXX.png        damaged | output | composite | original for a fixed val batch
    log.csv, loss.png             losses per epoch

A kill at any moment leaves the run consistent: state.json, written whole by a rename after the
checkpoint it names, is the one record of what is done, and log.csv is rewritten from it.
A lock file (.lock) keeps a second process from training the same run.

With --distribute (utils/distribute.py) the models, optimizers and metrics are made in the
strategy's scope and the training data is one input pipeline per worker; only the chief writes
the folder, and every worker resumes from its checkpoint.
"""
import csv
import fcntl
import io
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import keras
import numpy as np

from utils import distribute
from utils.images import UserError
from utils.masks import composite
from utils.outputs import remove_stale_partials, write_atomically, write_text
from utils.plotting import image_grid, loss_plot

SAMPLE_ROWS = 4
# Options that a resumed run takes from its config.json; --epochs may change, these may not.
FIXED_ON_RESUME = ("data", "init", "steps_per_epoch", "batch_size", "mask", "lr", "hole_weight",
                   "image_size", "no_augment", "seed", "no_jit", "d_lr", "rec_weight",
                   "adv_weight", "fm_weight", "lr_scaling")
# Options that are not the run's own: how this command reaches the run, and how it spreads it
# over devices (placement() records that, and a resume may change it if the global batch stays).
NOT_RUN_OPTIONS = ("resume", "runs_dir", "default_epochs", "option_defaults", "distribute",
                   "cpu_devices")
RUN_FILES = {"config.json", "samples", "log.csv", "loss.png", "checkpoints", "model.keras",
             "discriminator.keras", ".lock"}


def _json_value(value):
    return json.loads(json.dumps(value))


class Run:
    """A run folder and the options it was started with."""

    def __init__(self, folder, config, chief=True):
        self.folder, self.config, self.chief = Path(folder), config, chief
        self.checkpoints = self.folder / "checkpoints"
        self.state_file = self.checkpoints / "state.json"

    @staticmethod
    def _lock(folder):
        """Hold folder/.lock for this process's life (the OS frees it even after kill -9)."""
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            raise UserError(f"run {folder} is being trained right now (by process {owner}): "
                            f"wait for it to finish, or stop it, before resuming")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    @classmethod
    def _start_folder(cls, folder):
        """Lock a new run's folder, refusing one that holds another run, and clear what a start
        that failed before its first checkpoint left."""
        if folder.exists():
            finished = (folder / "checkpoints" / "state.json").exists()
            foreign = {p.name for p in folder.iterdir()} - RUN_FILES
            if finished or foreign:
                raise UserError(f"run folder {folder} already exists: pass --resume to "
                                f"continue it, or another --name")
        lock = cls._lock(folder)
        # A start that failed before its first checkpoint (bad data, an early Ctrl-C) left only
        # its own files: start it again from nothing.
        for leftover in ("log.csv", "loss.png", "model.keras", "discriminator.keras"):
            (folder / leftover).unlink(missing_ok=True)
        for sample in (folder / "samples").glob("*.png"):
            sample.unlink()
        return lock

    @classmethod
    def start(cls, args, model_name, chief=True):
        """Create runs/<name>/ for new options, or reopen it for --resume. A worker that is not
        the chief (chief=False) reads the folder but never writes to it."""
        options = {k: v for k, v in vars(args).items() if k not in NOT_RUN_OPTIONS}
        if args.resume:
            if not args.name:
                raise UserError("--resume needs --name of the run to continue")
            folder = Path(args.runs_dir) / args.name
            if not (folder / "config.json").exists():
                raise UserError(f"no run to resume in {folder} (no config.json)")
            lock = cls._lock(folder) if chief else None
            config = json.loads((folder / "config.json").read_text())
            _refuse_changed_options(args, config)
            config["epochs"] = args.epochs or config["epochs"]
        else:
            name = args.name or f"{model_name}-{time.strftime('%Y%m%d-%H%M%S')}"
            folder = Path(args.runs_dir) / name
            lock = cls._start_folder(folder) if chief else None  # the chief makes the folder
            config = {**options, "epochs": args.epochs or args.default_epochs,
                      "name": name, "model": model_name,
                      "image_size": list(args.image_size)}
        run = cls(folder, config, chief)
        run.lock = lock
        if chief:
            for place in (folder, run.checkpoints):  # what a killed run was writing
                if place.is_dir():
                    remove_stale_partials(place)
            (folder / "samples").mkdir(parents=True, exist_ok=True)
            run.save_config()
            if args.resume:
                run.rewrite_log()  # drop any row a kill left beyond the checkpoint
        keras.utils.set_random_seed(config["seed"])
        return run

    @property
    def image_size(self):
        return tuple(self.config["image_size"])

    def state(self):
        if not self.state_file.exists():
            return {"epochs": 0, "best_val_loss": math.inf, "checkpoint": None, "log": []}
        return json.loads(self.state_file.read_text())

    @property
    def epochs_done(self):
        return self.state()["epochs"]

    def save_config(self, **extra):
        self.config.update(extra)
        if self.chief:
            write_text(self.folder / "config.json", json.dumps(self.config, indent=2) + "\n")

    def restore(self):
        """The checkpointed model with its optimizer state, or None for a new run."""
        name = self.state()["checkpoint"]
        if name is None:
            return None
        return keras.models.load_model(self.checkpoints / name)

    def save_checkpoint(self, model, epochs, best, row=None):
        """Write the checkpoint, then state.json naming it (the commit), then log.csv from the
        state: after a kill at any moment the three agree."""
        if not self.chief:
            return
        self.checkpoints.mkdir(exist_ok=True)
        state = self.state()
        name = f"epoch_{epochs:04d}.keras"
        write_atomically(self.checkpoints / name, model.save)
        log = state["log"] + ([row] if row is not None else [])
        write_text(self.state_file, json.dumps({"epochs": epochs, "best_val_loss": best,
                                                "checkpoint": name, "log": log}) + "\n")
        for old in self.checkpoints.glob("epoch_*.keras"):
            if old.name != name:
                old.unlink(missing_ok=True)
        self.rewrite_log()

    def rewrite_log(self):
        """log.csv as Keras's CSVLogger writes it (epoch, then the metrics), from state.json."""
        rows = self.state()["log"]
        if not rows:
            (self.folder / "log.csv").unlink(missing_ok=True)
            return
        columns = ["epoch", *sorted({k for row in rows for k in row} - {"epoch"})]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text(self.folder / "log.csv", text.getvalue())

    def best_val_loss(self):
        return self.state().get("best_val_loss", math.inf)


def _refuse_changed_options(args, config):
    """--resume continues a run as it was started: an option given with another value than the
    run's own is refused, not silently ignored."""
    defaults = getattr(args, "option_defaults", {})
    changed = []
    for key in FIXED_ON_RESUME:
        if key not in config or key not in vars(args):
            continue
        given = _json_value(getattr(args, key))
        if given != _json_value(defaults.get(key)) and given != config[key]:
            changed.append(f"--{key.replace('_', '-')} {getattr(args, key)} (the run has "
                           f"{config[key]})")
    if changed:
        raise UserError(f"--resume continues run {config['name']} with its own options, but "
                        f"{'; '.join(changed)}: start a new run (another --name) to change them")


def save_inference_model(model, path):
    """Save a weights-only copy of model, uncompiled: small, and loadable without the loss."""
    copy = model.__class__.from_config(model.get_config())  # clone_model would recompile it
    copy.set_weights(model.get_weights())
    write_atomically(path, copy.save)


def save_exports(model, folder):
    """The run's files for users: model.keras (what restore.py and evaluate.py load) and, for a
    model made of parts, the others beside it (a GAN's discriminator.keras)."""
    exports = model.exports() if hasattr(model, "exports") else {"model.keras": model}
    for name, part in exports.items():
        save_inference_model(part, Path(folder) / name)


def inpainting_samples(model, samples):
    """The rows and titles of a sample grid: damaged | output | composite | original."""
    (damaged, mask), original, _ = samples
    output = model.predict([damaged, mask], verbose=0)
    return (list(zip(damaged, output, composite(output, original, mask), original)),
            ["damaged", "output", "composite", "original"])


class RunCallback(keras.callbacks.Callback):
    """After every epoch: samples, checkpoint, best model, loss plot."""

    def __init__(self, run, samples, show=inpainting_samples):
        super().__init__()
        self.run, self.samples, self.show = run, samples, show
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
        # Every worker predicts the samples (a prediction is a collective step under a
        # multi-worker strategy); the chief alone writes them, and everything below.
        rows, titles = self.show(self.model, self.samples)
        if self.run.chief:
            image_grid(rows, titles, self.run.folder / "samples" / f"epoch_{epoch + 1:04d}.png")
        val = logs.get("val_loss", logs.get("loss", math.inf))
        # The datasets are small enough to overfit, so the model a user gets is the epoch that
        # did best on validation, not simply the last one.
        if val < self.best:
            self.best = float(val)
            if self.run.chief:
                save_exports(self.model, self.run.folder)
        elif val > 10 * self.best and self.run.chief:
            print(f"\nwarning: validation loss {val:.4g} is over 10x the best {self.best:.4g}: "
                  f"training has probably diverged (try a lower --lr); model.keras keeps the "
                  f"best epoch", file=sys.stderr)
        row = {"epoch": epoch, **{k: float(v) for k, v in logs.items()}}
        self.run.save_checkpoint(self.model, epoch + 1, self.best, row)
        if self.run.chief:
            loss_plot(self.run.folder / "log.csv", self.run.folder / "loss.png",
                      title=self.run.config["name"])


def _first(data, rows):
    """The first rows of nested arrays (None stays None)."""
    if data is None:
        return None
    if isinstance(data, (tuple, list)):
        return type(data)(_first(d, rows) for d in data)
    return data[:rows]


def fit(model, train_ds, val_data, run, steps_per_epoch, batch_size, show=inpainting_samples):
    """Train to run.config['epochs'], resuming from the checkpoint's epoch, saving a sample grid
    show(model, first validation rows) -> (rows, titles) after each epoch. Ctrl-C saves a
    checkpoint of the weights so far and exits with status 130."""
    weight = val_data[2]
    samples = _first(val_data, min(SAMPLE_ROWS, len(val_data[1])))
    callback = RunCallback(run, samples, show)
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
        if run.chief:
            save_exports(model, run.folder)
        print(f"before training: val_loss {callback.best:.6g}")
    callbacks = [callback]  # log.csv is written with the checkpoint, from state.json
    # Ctrl-C arrives as SIGINT; turn it into KeyboardInterrupt even where a library replaced the
    # default handler, so the checkpoint below is always written.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        model.fit(train_ds, epochs=run.config["epochs"], initial_epoch=start,
                  steps_per_epoch=steps_per_epoch, validation_data=val_data,
                  validation_batch_size=batch_size, callbacks=callbacks, shuffle=False,
                  verbose=1 if run.chief else 0)
    except KeyboardInterrupt:
        run.save_checkpoint(model, callback.epochs_done, callback.best)
        if run.chief:
            print(f"\ninterrupted: saved a checkpoint after {callback.epochs_done} finished "
                  f"epochs; continue with --name {run.config['name']} --resume",
                  file=sys.stderr)
        sys.exit(130)


def start_from(model, path):
    """Copy the weights of the saved model at path into model (fine-tuning), or one clear error
    when its architecture differs. A GAN takes a saved generator (a Context Encoder) into its
    generator, its discriminator starting fresh."""
    from utils.inpaint import load_model_file
    saved = load_model_file(path)
    theirs = [w.shape for w in saved.weights]
    generator = getattr(model, "generator", None)
    if generator is not None and [w.shape for w in generator.weights] == theirs:
        model = generator
    mine = [w.shape for w in model.weights]
    if mine != theirs:
        raise UserError(f"--init {path}: its model is not this one ({len(theirs)} weight "
                        f"arrays against {len(mine)}, or of other shapes): fine-tuning needs "
                        f"the same architecture")
    model.set_weights(saved.get_weights())
    print(f"starting from the weights of {path}")


def inpainting_data(config, start_batch):
    """The paintings with artificial damage to fill: (make_training(shard, batch_size) -> the
    training dataset of one input pipeline, validation data, where the paintings came from)."""
    from utils.data import load_paintings, training_dataset, validation_data
    c = config
    (train_images, _), (val_images, _), where = load_paintings(c["data"], tuple(c["image_size"]),
                                                               c["seed"])

    def make_training(shard, batch_size):
        return training_dataset(train_images, batch_size, c["mask"], c["seed"],
                                augment=not c["no_augment"], hole_weight=c["hole_weight"],
                                start_batch=start_batch, shard=shard)
    return make_training, validation_data(val_images, c["mask"], c["seed"], c["hole_weight"]), \
        where


def placement(args, config, strategy, resume):
    """How the run is spread (written to config.json): the strategy, its replicas, the global
    batch and the learning rate's scale; a resumed run must keep its global batch."""
    replicas = strategy.num_replicas_in_sync
    scaling = config.get("lr_scaling", "none")
    spread = {"distribute": args.distribute, "replicas": replicas,
              "global_batch_size": config["batch_size"] * replicas,
              "lr_scale": distribute.LR_SCALINGS[scaling](replicas),
              # XLA cannot compile one step across several devices (a variable on each)
              "jit_compile": not config["no_jit"] and replicas == 1}
    before = config.get("global_batch_size", config["batch_size"])
    if resume and before != spread["global_batch_size"]:
        raise UserError(f"run {config['name']} trained on a global batch of {before} "
                        f"({config.get('replicas', 1)} replica(s) of {config['batch_size']}); "
                        f"this resume has {replicas} replica(s), a global batch of "
                        f"{spread['global_batch_size']}: resume it on "
                        f"{config.get('replicas', 1)} replica(s)")
    if resume:  # the optimizer's schedule in the checkpoint keeps the run's own scale
        spread["lr_scale"] = config.get("lr_scale", 1.0)
    return spread


def train(args, model_name, make_model, data=inpainting_data, show=inpainting_samples):
    """Everything a train script does after parsing its options: the strategy, the run folder,
    the data (data(config, start_batch) -> make_training(shard, batch_size), validation data,
    where it came from), the model (make_model(config, input_shape, decay_steps) -> a compiled
    model, unless a checkpoint is resumed; config["lr"] and config.get("d_lr") already scaled
    for the global batch), training, and a sample grid per epoch (show, as fit takes it)."""
    import tensorflow as tf
    strategy = distribute.make_strategy(args.distribute, args.cpu_devices)
    chief = distribute.is_chief(strategy)
    if distribute.worker_count(strategy) > 1 and not args.name:
        raise UserError("--distribute multi-worker needs --name: every worker must find the "
                        "same run folder")
    try:
        _train(args, model_name, make_model, data, show, strategy, chief)
    except (tf.errors.UnavailableError, tf.errors.AbortedError) as error:
        # a worker that stops (an error of its own, a kill) stops the others' collectives
        reason = str(error).strip().splitlines()[0].split("aborted by: ")[-1][:300]
        raise UserError(f"the cluster's training stopped: another worker stopped or cannot be "
                        f"reached (its own output says why): {reason}") from None


def _train(args, model_name, make_model, data, show, strategy, chief):
    """train() under strategy, on this process (the chief, or another worker)."""
    run = Run.start(args, model_name, chief)
    c = run.config
    run.save_config(**placement(args, c, strategy, args.resume))
    make_training, val_data, where = data(c, run.epochs_done * c["steps_per_epoch"])
    print(where)
    run.save_config(data_source=where)
    if distribute.worker_count(strategy) == 1:
        # One pipeline of global batches, each split between the replicas: the batches one
        # device would train on with the global batch.
        train_ds = make_training((0, 1), c["global_batch_size"])
        if strategy.num_replicas_in_sync > 1:
            train_ds = strategy.experimental_distribute_dataset(train_ds)
    else:  # a pipeline per worker, on its own share of the paintings
        train_ds = strategy.distribute_datasets_from_function(
            lambda context: make_training(
                (context.input_pipeline_id, context.num_input_pipelines),
                context.get_per_replica_batch_size(c["global_batch_size"])))
    distribute.agree(strategy, run.epochs_done, "the epochs the run's checkpoint has done")
    with strategy.scope():
        model = run.restore()
        if model is None:
            scaled = {**c, "lr": c["lr"] * c["lr_scale"]}
            if "d_lr" in c:
                scaled["d_lr"] = c["d_lr"] * c["lr_scale"]
            scaled["no_jit"] = not c["jit_compile"]
            model = make_model(scaled, (*run.image_size, 3), c["epochs"] * c["steps_per_epoch"])
            if c.get("init"):
                start_from(model, c["init"])
    distribute.fit_under(strategy, model, _first(val_data, c["global_batch_size"]))
    if strategy.num_replicas_in_sync > 1:
        print(f"training on {strategy.num_replicas_in_sync} replicas ({args.distribute}): "
              f"global batch {c['global_batch_size']}, learning rate x {c['lr_scale']:.3g}")
    elif args.distribute != "none":
        print(f"note: --distribute {args.distribute} found one device: training as on one "
              f"device (without GPUs, --cpu-devices N splits the CPU)", file=sys.stderr)
    fit(model, train_ds, val_data, run, c["steps_per_epoch"], c["global_batch_size"], show)
    if chief:
        print(f"done: {run.folder / 'model.keras'} (samples in {run.folder / 'samples'})")


def detection_data(config, start_batch):
    """Crops of the paintings with synthetic paint loss, for the damage detector: (make_training
    (shard, batch_size), validation data, where the paintings came from)."""
    from utils.data import detection_dataset, detection_validation, load_paintings
    c = config
    size = tuple(c["image_size"])
    (train_images, _), (val_images, _), where = load_paintings(
        c["data"], (2 * size[0], 2 * size[1]), c["seed"])

    def make_training(shard, batch_size):
        return detection_dataset(train_images, batch_size, size, c["seed"], start_batch, shard)
    return make_training, detection_validation(val_images, size, c["seed"]), where


def detection_samples(model, samples):
    """The rows and titles of a detector's sample grid: painting | true | found | overlay."""
    paintings, truth, _ = samples
    found = model.predict(paintings, verbose=0)
    overlay = [np.where(f > 0.5, 0.5 * p + 0.5 * np.array([1.0, 0.0, 1.0]), p)
               for p, f in zip(paintings, found)]
    return (list(zip(paintings, np.repeat(truth, 3, -1), np.repeat(found, 3, -1), overlay)),
            ["painting", "true loss", "found", "found (magenta)"])
