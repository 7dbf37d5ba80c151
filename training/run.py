"""A training run's folder: its saved options, checkpoints, the commit that makes a kill at any
moment leave it consistent, resuming, and the models it exports.

runs/<name>/
    config.json                   the resolved options (and where the data came from)
    model.keras                   the model with the best validation loss, uncompiled, for inference
    checkpoints/epoch_XXXX.keras  the latest model with its optimizer state, for --resume
    checkpoints/state.json        the epochs that checkpoint finished, its name, the log so far
    samples/epoch_XXXX.png        damaged | output | composite | original for a fixed val batch
    log.csv, loss.png             losses per epoch

state.json, written whole by a rename after the checkpoint it names, is the one record of what is
done, and log.csv is rewritten from it. A lock file (.lock) keeps a second process from training
the same run.
"""
import csv
import errno
import fcntl
import io
import json
import math
import os
import time
from pathlib import Path

import keras

from utils.errors import UserError
from utils.files import remove_stale_partials, write_atomically, write_text

# Options that are not the run's own: how this command reaches the run, and how it spreads it
# over devices (placement() records that, and a resume may change it if the global batch stays).
NOT_RUN_OPTIONS = ("resume", "runs_dir", "default_epochs", "option_defaults", "distribute",
                   "cpu_devices")
# The options a resume may change. Every other option, one added later too, is the run's own and
# fixed on resume: a value it was not trained with would change its model or its data halfway,
# so only a closed list may pass. --epochs is the run's length. --steps-per-epoch is not on it:
# it is what an epoch is, and the checkpoint's epoch count, the data's position and the learning
# rate's schedule are counted in it. --name is how the command finds the folder (a folder renamed
# since keeps its config's name).
CHANGEABLE_ON_RESUME = ("epochs", "name", *NOT_RUN_OPTIONS)
RUN_FILES = {"config.json", "samples", "log.csv", "loss.png", "checkpoints", "model.keras",
             "discriminator.keras", "false_alarms.npy", ".lock"}


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
        """Hold folder/.lock until release() or this process's end (the OS frees it even after
        kill -9)."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # never through a link someone planted: its target would get this process's id
            fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                         0o644)
            handle = open(fd, "a+")
        except OSError as error:
            raise UserError(f"cannot use the run folder {folder} ({error.strerror or error}"
                            f"{'; its .lock is a link' if error.errno == errno.ELOOP else ''})")
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
        """Lock a new run's folder, refusing one that holds anything a run made or a user put
        there: a new run never reuses a run's folder. Only a start that failed before its first
        epoch ended (bad data, an early Ctrl-C: config.json and an empty samples/) is started
        again."""
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{folder} is a file, not a run folder: choose another --name or "
                            f"--runs-dir")
        if folder.exists():
            leftovers = {p.name for p in folder.iterdir()} - {"config.json", ".lock", "samples"}
            samples = folder / "samples"
            if leftovers or (samples.is_dir() and any(samples.iterdir())) or (
                    samples.exists() and not samples.is_dir()):
                raise UserError(f"run folder {folder} already exists and holds a run's files: "
                                f"pass --resume to continue it, or choose another --name (a "
                                f"new run never replaces another's files)")
        return cls._lock(folder)

    @classmethod
    def start(cls, args, model_name, chief=True):
        """Create runs/<name>/ for new options, or reopen it for --resume. A worker that is not
        the chief (chief=False) reads the folder but never writes to it."""
        options = {k: v for k, v in vars(args).items() if k not in NOT_RUN_OPTIONS}
        if args.resume:
            if not args.name:
                raise UserError("--resume needs --name of the run to continue")
            folder = Path(args.runs_dir) / args.name
            if not (folder / "config.json").is_file():
                raise UserError(f"no run to resume in {folder} (no config.json)")
            lock = cls._lock(folder) if chief else None
            config = _read_config(folder / "config.json")
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

    def release(self):
        """Let another process (or another run in this one) train this run folder."""
        if getattr(self, "lock", None) is not None:
            self.lock.close()
            self.lock = None

    @property
    def image_size(self):
        return tuple(self.config["image_size"])

    def state(self):
        """What the last checkpoint finished (see save_checkpoint), checked: a truncated or
        foreign state.json is one line, never a traceback or a wrong resume."""
        if not self.state_file.exists():
            return {"epochs": 0, "best_val_loss": math.inf, "checkpoint": None, "log": []}
        try:
            state = json.loads(self.state_file.read_text())
            valid = (isinstance(state, dict) and isinstance(state.get("epochs"), int)
                     and not isinstance(state["epochs"], bool) and state["epochs"] >= 0
                     and isinstance(state.get("log"), list)
                     and all(isinstance(row, dict) for row in state["log"])
                     and (state.get("checkpoint") is None or (
                         isinstance(state["checkpoint"], str)
                         and state["checkpoint"] == Path(state["checkpoint"]).name
                         and state["checkpoint"].endswith(".keras")))
                     and isinstance(state.get("best_val_loss", math.inf), (int, float)))
        except (OSError, ValueError) as error:
            raise UserError(f"cannot resume run {self.folder}: {self.state_file} is not readable "
                            f"JSON ({error}); start a new run (another --name)") from None
        if not valid:
            raise UserError(f"cannot resume run {self.folder}: {self.state_file} is not a run's "
                            f"state (damaged, or from elsewhere); start a new run (another "
                            f"--name)")
        return state

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
        path = self.checkpoints / name
        if not path.is_file():
            raise UserError(f"cannot resume run {self.folder}: its checkpoint {path} is missing; "
                            f"start a new run (another --name)")
        try:
            return keras.models.load_model(path)
        except Exception as error:  # a truncated or damaged file: Keras raises many kinds
            raise UserError(f"cannot resume run {self.folder}: its checkpoint {path} cannot be "
                            f"read ({type(error).__name__}); it is damaged: start a new run "
                            f"(another --name)") from None

    def save_checkpoint(self, model, epochs, best, row=None):
        """Write the checkpoint, then state.json naming it (the commit), then log.csv from the
        state: after a kill at any moment the three agree."""
        if not self.chief:
            return
        self.checkpoints.mkdir(exist_ok=True)
        state = self.state()
        name = f"epoch_{epochs:04d}.keras"
        write_atomically(self.checkpoints / name, model.save)
        # the log holds exactly the epochs the checkpoint finished
        log = (state["log"] + ([row] if row is not None else []))[:epochs]
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


def _read_config(path):
    """A run's config.json, or one line saying why it cannot be resumed from."""
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"cannot resume: {path} is not readable JSON ({error}); it holds the "
                        f"run's options, so the run cannot continue without it")
    missing = [k for k in ("name", "model", "epochs", "image_size", "seed")
               if not isinstance(config, dict) or k not in config]
    if missing:
        raise UserError(f"cannot resume: {path} lacks {', '.join(missing)}: it is not a run's "
                        f"config.json, or it was damaged")
    return config


def _refuse_changed_options(args, config):
    """--resume continues a run as it was started: an option given with another value than the
    run's own is refused, not silently ignored. An option left at its default takes the run's
    value; one the run has no value for (it was started before the option existed) keeps the
    behaviour it was trained with, so it too may only be left at its default."""
    defaults = getattr(args, "option_defaults", {})
    changed = []
    for key, value in vars(args).items():
        given = _json_value(value)
        if key in CHANGEABLE_ON_RESUME or given == _json_value(defaults.get(key)):
            continue
        option = f"--{key.replace('_', '-')} {value}"
        if key not in config:
            changed.append(f"{option} (the run has none: it was started before this option)")
        elif given != config[key]:
            changed.append(f"{option} (the run has {config[key]})")
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
