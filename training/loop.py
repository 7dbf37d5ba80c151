"""The training loop every train script shares: the strategy, the run folder (training/run.py),
the data and model, Keras's fit with a callback that saves samples, checkpoints and the best
model after each epoch, and a clean stop on Ctrl-C.

With --distribute (utils/distribute.py) the models, optimizers and metrics are made in the
strategy's scope and the training data is one input pipeline per worker; only the chief writes
the folder, and every worker resumes from its checkpoint.
"""
import math
import os
import signal
import sys
from pathlib import Path

import keras
import numpy as np

from training.run import Run, save_exports
from training.tasks import inpainting_data, inpainting_samples
from utils import distribute
from utils.errors import UserError
from utils.plotting import image_grid, loss_plot

SAMPLE_ROWS = 4


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
        if INTERRUPT["requested"]:  # Ctrl-C: stop after this step, between TensorFlow's calls
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if INTERRUPT["requested"]:  # an epoch cut short by Ctrl-C is not a finished epoch
            return
        try:
            self._epoch_end(epoch, logs or {})
        except OSError as error:  # a full disk: one line; the run keeps its last checkpoint
            where = f"{error.filename}: " if error.filename else ""
            raise UserError(f"cannot write the run's files after epoch {epoch + 1} ({where}"
                            f"{error.strerror or error}); the run keeps its last whole "
                            f"checkpoint ({self.epochs_done} epochs): free some space, then "
                            f"--resume") from None

    def _epoch_end(self, epoch, logs):
        self._stop_if_not_finite(logs, "validation")
        # epochs_done moves only once the checkpoint holds the epoch and its log row: a Ctrl-C
        # before that saves the weights as of the epochs already logged
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
        self.epochs_done = epoch + 1
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


INTERRUPT = {"requested": False}  # set by the first Ctrl-C of a fit()


def _interrupt(signum, frame):
    if INTERRUPT["requested"]:
        raise KeyboardInterrupt
    INTERRUPT["requested"] = True


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
    # Ctrl-C (SIGINT) asks the training to stop after the step under way (RunCallback): a
    # KeyboardInterrupt raised inside TensorFlow's calls could leave it hung or crash it (seen
    # on two replicas and on one device); a second Ctrl-C interrupts at once.
    INTERRUPT["requested"] = False
    signal.signal(signal.SIGINT, _interrupt)
    try:
        model.fit(train_ds, epochs=run.config["epochs"], initial_epoch=start,
                  steps_per_epoch=steps_per_epoch, validation_data=val_data,
                  validation_batch_size=batch_size, callbacks=callbacks, shuffle=False,
                  verbose=1 if run.chief else 0)
        if INTERRUPT["requested"]:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        # the epochs the last checkpoint logged (an interrupt between its commit and the
        # callback's count must not undo it)
        callback.epochs_done = max(callback.epochs_done, run.epochs_done)
        run.save_checkpoint(model, callback.epochs_done, callback.best)
        if run.chief:
            print(f"\ninterrupted: saved a checkpoint after {callback.epochs_done} finished "
                  f"epochs; continue with --name {run.config['name']} --resume",
                  file=sys.stderr)
        # Everything is written and closed: leave now, without waiting for TensorFlow's input
        # threads to wind down (that took up to a minute after the message above).
        sys.stdout.flush()
        sys.stderr.flush()
        run.release()
        os._exit(130)


def start_from(model, path):
    """Copy the weights of the saved model at path into model (fine-tuning), or one clear error
    when its architecture differs. A GAN takes a saved generator (a Context Encoder) into its
    generator, its discriminator starting fresh. A model that holds every layer of the saved one
    under the same names and shapes, and more (the Fourier inpainter and a Context Encoder),
    takes those layers' weights; its own new layers keep their initial weights."""
    from models.loading import load_model_file
    saved = load_model_file(path)
    theirs = [w.shape for w in saved.weights]
    generator = getattr(model, "generator", None)
    target = generator if generator is not None else model
    if [w.shape for w in target.weights] == theirs:
        target.set_weights(saved.get_weights())
        print(f"starting from the weights of {path}")
        return
    mine = {layer.name: layer for layer in target.layers}
    shared = [layer for layer in saved.layers if layer.weights]
    if shared and all(layer.name in mine and [w.shape for w in mine[layer.name].weights]
                      == [w.shape for w in layer.weights] for layer in shared):
        for layer in shared:
            mine[layer.name].set_weights(layer.get_weights())
        new = [n for n, layer in mine.items() if layer.weights and n not in
               {s.name for s in shared}]
        print(f"starting from the weights of {path} ({len(shared)} layers; new here, from "
              f"their initial weights: {', '.join(new)})")
        return
    raise UserError(f"--init {path}: its model is not this one ({len(theirs)} weight arrays "
                    f"against {len(target.weights)}, or of other shapes or layer names): "
                    f"fine-tuning needs the same architecture, or this one's layers to include "
                    f"all of its")


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
    the data (data(config, start_batch, folder) -> make_training(shard, batch_size), validation data,
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


# Training memory, measured roughly on the Context Encoder and the GANs at 256 x 384 (3-4 GB for
# a batch of 8): bytes per pixel of a batch's images; the paintings are held as float32 RGB.
TRAIN_BYTES_PER_PIXEL = 5000
HELD_BYTES_PER_PIXEL = 12


def check_memory(args, paintings=0):
    """Refuse, with one line, an --image-size and --batch-size this machine's memory cannot
    hold (the kernel would kill the run without a word), before anything is loaded."""
    from scans.scan import available_memory
    height, width = args.image_size
    need = (args.batch_size * height * width * TRAIN_BYTES_PER_PIXEL
            + paintings * height * width * HELD_BYTES_PER_PIXEL + 1e9)
    memory = available_memory()
    if memory is not None and need > memory:
        raise UserError(f"--image-size {height}x{width} with --batch-size {args.batch_size}"
                        f"{f' and {paintings} paintings' if paintings else ''} needs about "
                        f"{need / 1e9:.0f} GB of memory and {memory / 1e9:.1f} GB is available: "
                        f"lower them")


def _train(args, model_name, make_model, data, show, strategy, chief):
    """train() under strategy, on this process (the chief, or another worker)."""
    runs = Path(args.runs_dir)
    if runs.exists() and not runs.is_dir():
        raise UserError(f"--runs-dir {runs} is a file: give a folder (it holds the run folders)")
    if getattr(args, "image_size", None) and not args.resume:
        check_memory(args, _count_paintings(args.data))
    run = Run.start(args, model_name, chief)
    try:
        _train_run(args, run, make_model, data, show, strategy, chief)
    finally:
        run.release()


def _count_paintings(data):
    from utils.images import find_images
    try:
        return len(find_images(data)) if data else 0
    except UserError:
        return 0  # a missing folder is told when the data is loaded


def _train_run(args, run, make_model, data, show, strategy, chief):
    """The body of _train, on a started run."""
    c = run.config
    run.save_config(**placement(args, c, strategy, args.resume))
    make_training, val_data, where = data(c, run.epochs_done * c["steps_per_epoch"],
                                          run.folder if chief else None)
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
