"""Training that survives faults and bad options: kill -9 at random moments, a failed start,
two processes on one run, numbers that make no sense, options changed on --resume."""
import csv
import fcntl
import json
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import models.layers  # noqa: F401  (registers the custom layers the saved models use)
from conftest import ROOT, copy_run, error_line, run_script, write_paintings

# --no-jit: these tests are about faults, and an XLA compile per run would double their time
TINY = ["--image-size", "64x96", "--steps-per-epoch", "2", "--batch-size", "2", "--no-jit"]


def _log_epochs(run):
    if not (run / "log.csv").exists():
        return []
    with open(run / "log.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def _assert_consistent(run):
    """log.csv, state.json and the checkpoint it names tell one story."""
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert _log_epochs(run) == list(range(state["epochs"])), (state["epochs"], _log_epochs(run))
    assert [r["epoch"] for r in state["log"]] == list(range(state["epochs"]))
    checkpoints = sorted(p.name for p in (run / "checkpoints").glob("epoch_*.keras"))
    assert checkpoints == [state["checkpoint"]]
    model = keras.models.load_model(run / "checkpoints" / state["checkpoint"])
    assert int(model.optimizer.iterations.numpy()) == 2 * state["epochs"]
    return state["epochs"]


@pytest.mark.parametrize("option,value,message", [
    ("--epochs", "0", "must be above 0"), ("--epochs", "-1", "must be above 0"),
    ("--steps-per-epoch", "0", "must be above 0"), ("--batch-size", "0", "must be above 0"),
    ("--lr", "-1", "must be above 0"), ("--lr", "abc", "not a number"),
    ("--hole-weight", "0", "must be above 0")])
def test_every_numeric_option_is_checked(tmp_path, option, value, message):
    result = run_script("train_context_encoder.py", "--runs-dir", tmp_path, option, value)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert not any(tmp_path.iterdir())  # nothing started


@pytest.mark.slow
def test_a_kill_at_any_moment_leaves_a_run_that_resumes(trained_run, tmp_path):
    """SIGKILL at random moments (seeded), each followed by --resume: log, state and checkpoint
    always agree, and no epoch is logged twice."""
    run, rng = copy_run(trained_run, tmp_path / "runs"), np.random.default_rng(0)
    resume = ["--name", run.name, "--runs-dir", run.parent, "--resume"]
    command = [sys.executable, str(ROOT / "train_context_encoder.py"), *map(str, resume),
               "--epochs", "400"]
    state = run / "checkpoints" / "state.json"
    for _ in range(2):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        deadline = time.time() + 240
        before = json.loads(state.read_text())["epochs"]
        while time.time() < deadline and process.poll() is None and (
                json.loads(state.read_text())["epochs"] <= before):
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # somewhere in the next epoch or its saving
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, stderr[-3000:]  # it ran until killed
        assert _assert_consistent(run) > before
    done = _assert_consistent(run)
    result = run_script("train_context_encoder.py", *resume, "--epochs", str(done + 2))
    assert result.returncode == 0, result.stderr
    assert _assert_consistent(run) == done + 2
    assert not list(run.rglob(".partial-*"))  # what the kills left half-written is gone


@pytest.mark.slow
def test_a_failed_start_can_be_restarted_or_resumed(data_dir, tmp_path):
    runs = tmp_path / "runs"
    empty = tmp_path / "empty"
    empty.mkdir()
    failed = run_script("train_context_encoder.py", "--data", empty, "--name", "first",
                        "--runs-dir", runs, *TINY, "--epochs", "1")
    assert failed.returncode == 2 and "no readable image" in failed.stderr
    again = run_script("train_context_encoder.py", "--data", data_dir, "--name", "first",
                       "--runs-dir", runs, *TINY, "--epochs", "1")
    assert again.returncode == 0, again.stderr
    assert _assert_consistent(runs / "first") == 1

    failed = run_script("train_context_encoder.py", "--data", empty, "--name", "second",
                        "--runs-dir", runs, *TINY, "--epochs", "1")
    assert failed.returncode == 2
    # the saved config names the empty folder: fill it, and resume starts from epoch 0
    write_paintings(empty / "train", 4, seed=3)
    write_paintings(empty / "val", 2, seed=4)
    resumed = run_script("train_context_encoder.py", "--name", "second", "--runs-dir", runs,
                         "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert _assert_consistent(runs / "second") == 1


@pytest.mark.slow
def test_resume_refuses_changed_options_and_a_second_process(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path / "runs")
    resume = ["--name", run.name, "--runs-dir", run.parent, "--resume"]
    for option, value in (("--lr", "0.01"), ("--batch-size", "4"), ("--image-size", "32x64")):
        result = run_script("train_context_encoder.py", *resume, "--epochs", "3", option, value)
        assert option in error_line(result) and "start a new run" in result.stderr
    # the run's own value is no change: the resume goes on (to the epochs it already has)
    same = run_script("train_context_encoder.py", *resume, "--batch-size", "2")
    assert same.returncode == 0 and "already trained 2 epochs" in same.stdout, same.stderr

    with open(run / ".lock", "a+") as held:  # another process is training it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        second = run_script("train_context_encoder.py", *resume, "--epochs", "3")
    assert "being trained right now" in error_line(second)
    assert _assert_consistent(run) == 2


def test_every_option_is_fixed_on_resume_but_the_runs_length(tmp_path, monkeypatch):
    """An option added to a train script is the run's own without being listed anywhere: a
    resume that changes it is refused; --epochs may change, and an option left at its default
    takes the run's value."""
    import train_context_encoder
    from training import recipes
    from training.run import Run
    parser = recipes.inpainting_parser

    def with_a_new_option(*args, **kwargs):
        p = parser(*args, **kwargs)
        p.add_argument("--new-option", type=int, default=1)
        return p
    monkeypatch.setattr(recipes, "inpainting_parser", with_a_new_option)
    where = ["--name", "r", "--runs-dir", tmp_path / "runs"]
    (tmp_path / "none").mkdir()  # no paintings: a resume let through stops at once, untrained

    def start(*options):
        args = train_context_encoder.parse_args([*map(str, where), *options])
        run = Run.start(args, "context_encoder")
        run.release()
        return run.config
    assert start("--new-option", "2", "--data", tmp_path / "none")["new_option"] == 2
    for options in (["--new-option", "3"], ["--new-option", "3", "--epochs", "5"]):
        result = run_script("train_context_encoder.py", *where, "--resume", *options)
        assert "--new-option 3 (the run has 2)" in error_line(result)
    for options in (["--epochs", "5"], ["--new-option", "2"], ["--new-option", "1"]):
        config = start("--resume", *options)
        assert config["new_option"] == 2  # 1 is the default: the run's own value stands
    assert config["epochs"] == 5

    # a run started before the option existed trained without it: only the default passes
    (tmp_path / "runs" / "r" / "config.json").write_text(json.dumps(
        {k: v for k, v in config.items() if k != "new_option"}))
    result = run_script("train_context_encoder.py", *where, "--resume", "--new-option", "2")
    assert "--new-option 2 (the run has none: it was started before" in error_line(result)
    assert "new_option" not in start("--resume", "--new-option", "1")


@pytest.mark.slow
def test_every_damaged_run_folder_is_one_line(trained_run, tmp_path):
    """--resume on a run whose state.json is truncated or another file's, whose checkpoint is
    missing or truncated, or whose .lock is a planted link: one line each, no traceback, and
    the link's target untouched."""
    def damaged(name, harm):
        run = copy_run(trained_run, tmp_path / name)
        harm(run)
        return error_line(run_script("train_context_encoder.py", "--name", run.name,
                                     "--runs-dir", run.parent, "--resume", "--epochs", "3"))

    state = trained_run / "checkpoints" / "state.json"
    checkpoint = next((trained_run / "checkpoints").glob("epoch_*.keras"))
    cases = {
        "truncated state": (lambda run: (run / "checkpoints" / "state.json").write_text(
            state.read_text()[:20]), "not readable JSON"),
        "foreign state": (lambda run: (run / "checkpoints" / "state.json").write_text(
            json.dumps({"epochs": "two", "checkpoint": "../../etc/passwd"})), "not a run's state"),
        "missing checkpoint": (lambda run: (run / "checkpoints" / checkpoint.name).unlink(),
                               "is missing"),
        "truncated checkpoint": (lambda run: (run / "checkpoints" / checkpoint.name).write_bytes(
            checkpoint.read_bytes()[:1000]), "cannot be read"),
    }
    for name, (harm, words) in cases.items():
        assert words in damaged(name.replace(" ", "-"), harm), name
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")

    def planted_lock(run):
        (run / ".lock").unlink(missing_ok=True)
        (run / ".lock").symlink_to(precious)
    assert "its .lock is a link" in damaged("planted-lock", planted_lock)
    assert precious.read_text() == "keep me"


def test_a_full_disk_at_an_epochs_end_is_one_line(tmp_path, monkeypatch):
    """The callback after an epoch turns a write that fails (a full disk) into one line that
    says the last whole checkpoint is kept."""
    import errno

    from training.loop import RunCallback
    from utils.errors import UserError

    class Run:
        chief, config = True, {"name": "r"}
        folder = tmp_path

        def best_val_loss(self):
            return float("inf")
        epochs_done = 1

    callback = RunCallback(Run(), samples=None, show=lambda model, samples: ([], []))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "samples"))
    monkeypatch.setattr("training.loop.image_grid", full)
    with pytest.raises(UserError, match="No space left on device.*last whole checkpoint "
                                        r"\(1 epochs\).*--resume"):
        callback.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.4})
