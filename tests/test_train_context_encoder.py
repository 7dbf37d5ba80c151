"""train_context_encoder.py end to end on tiny images, as a user runs it."""
import csv
import json
import sys

import keras
import pytest

import models.layers  # noqa: F401  (registers the custom layers the saved models use)
from conftest import ROOT, copy_run, run_script, stop_with_ctrl_c

TINY = ["--image-size", "64x96", "--steps-per-epoch", "2", "--batch-size", "2"]


def _epochs(log):
    with open(log, newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_help_explains_every_option():
    result = run_script("train_context_encoder.py", "--help")
    assert result.returncode == 0
    for option in ["--data", "--epochs", "--steps-per-epoch", "--batch-size", "--mask", "--lr",
                   "--image-size", "--name", "--resume", "--seed", "--no-augment"]:
        assert option in result.stdout


@pytest.mark.slow
def test_trains_writes_the_run_folder_and_resumes(trained_run, tmp_path):
    config = json.loads((trained_run / "config.json").read_text())
    assert config["image_size"] == [64, 96] and config["seed"] == 0 and config["epochs"] == 2
    assert sorted(p.name for p in (trained_run / "samples").iterdir()) == ["epoch_0001.png",
                                                                           "epoch_0002.png"]
    assert (trained_run / "loss.png").stat().st_size > 0
    assert _epochs(trained_run / "log.csv") == [0, 1]
    model = keras.models.load_model(trained_run / "model.keras", safe_mode=True)
    assert [tuple(t.shape[1:]) for t in model.inputs] == [(64, 96, 3), (64, 96, 1)]

    run = copy_run(trained_run, tmp_path / "runs")
    resume = ["--name", run.name, "--runs-dir", run.parent, "--resume"]
    result = run_script("train_context_encoder.py", *resume, "--epochs", "3")
    assert result.returncode == 0, result.stderr
    assert "Epoch 3/3" in result.stdout and "Epoch 1/" not in result.stdout
    assert _epochs(run / "log.csv") == [0, 1, 2]
    result = run_script("train_context_encoder.py", *resume)  # without --epochs: the run's own
    assert result.returncode == 0 and "already trained 3 epochs" in result.stdout  # 3, all done
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    checkpoint = keras.models.load_model(run / "checkpoints" / state["checkpoint"])
    assert int(checkpoint.optimizer.iterations.numpy()) == 3 * 2  # optimizer state carried over


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_that_resumes(trained_run, tmp_path):
    # on two replicas: test_distribute.py's mirrored test
    run = copy_run(trained_run, tmp_path / "runs")
    resume = ["--name", run.name, "--runs-dir", run.parent, "--resume"]
    code, _, stderr = stop_with_ctrl_c([sys.executable, ROOT / "train_context_encoder.py",
                                        *resume, "--epochs", "500"], run, 3, tmp_path)
    assert code == 130, stderr
    assert "--resume" in stderr
    done = json.loads((run / "checkpoints" / "state.json").read_text())["epochs"]
    assert 3 <= done < 500
    result = run_script("train_context_encoder.py", *resume, "--epochs", str(done + 1))
    assert result.returncode == 0, result.stderr
    assert f"Epoch {done + 1}/{done + 1}" in result.stdout


@pytest.mark.parametrize("args,message", [
    (["--data", "/no/such/folder"], "does not exist"),
    (["--image-size", "100x100"], "multiples of 32"),
    (["--resume"], "--resume needs --name"),
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, args, message):
    result = run_script("train_context_encoder.py", "--runs-dir", tmp_path, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 or result.stderr.strip().splitlines()[-1]\
        .startswith("error:")


def test_an_existing_run_is_not_overwritten(data_dir, tmp_path):
    (tmp_path / "runs" / "taken" / "checkpoints").mkdir(parents=True)
    (tmp_path / "runs" / "taken" / "checkpoints" / "state.json").write_text('{"epochs": 1}')
    (tmp_path / "runs" / "other").mkdir()
    (tmp_path / "runs" / "other" / "notes.txt").write_text("someone's folder")
    for name in ("taken", "other"):
        result = run_script("train_context_encoder.py", "--data", data_dir, "--name", name,
                            "--runs-dir", tmp_path / "runs", *TINY)
        assert result.returncode == 2 and "already exists" in result.stderr
