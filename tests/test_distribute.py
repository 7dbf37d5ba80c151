"""Training on several devices and machines (--distribute), without GPUs: the CPU split into two
logical devices for mirrored, two worker processes on 127.0.0.1 for multi-worker."""
import csv
import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import ROOT, run_script, stop_with_ctrl_c, write_paintings

TINY = ["--image-size", "64x96", "--steps-per-epoch", "2", "--batch-size", "2"]


def _epochs(log):
    with open(log, newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


@pytest.fixture
def tiny_data(tmp_path):
    write_paintings(tmp_path / "data" / "train", 6, seed=1)
    write_paintings(tmp_path / "data" / "val", 2, seed=2)
    return tmp_path / "data"


@pytest.mark.slow
def test_one_step_on_two_replicas_is_one_step_on_one_device():
    """Each model, one step on the whole batch on one device and on two replicas of half the
    batch each: the same weights and the same logged figures. With SGD, where a wrongly scaled
    sum of the replicas' gradients would show, and with Adam clipped on every step, where a clip
    of each replica's share apart (Keras's own order) would: the clip is the optimizer's, so a
    compiled model and the GAN's two optimizers show it. (The Context Encoder 2 steps as the
    Context Encoder does, through Keras's compiled fit, and the cGAN as the GAN, through
    AdversarialInpainter.train_step: their rows would repeat those two at 5 s each.)"""
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "replica_step.py"),
                             "sgd:context_encoder,gan,detector", "clipped:context_encoder,gan"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert sorted((r["model"], r["optimizer"]) for r in rows) == sorted(
        [(m, "sgd") for m in ("context_encoder", "gan", "detector")]
        + [("context_encoder", "clipped"), ("gan", "clipped")])
    for row in rows:
        assert row["replicas"] == 2
        assert row["max_step"] > 0  # the step moved the weights
        assert row["max_difference"] <= 1e-2 * row["max_step"], row
        assert row["one"].keys() == row["two"].keys()
        for name, value in row["one"].items():
            assert row["two"][name] == pytest.approx(value, rel=1e-5, abs=1e-7), (row, name)


def _log(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_mirrored_on_two_cpu_devices_trains_as_one_device_and_resumes_after_ctrl_c(
        trained_run, tmp_path):
    """Two replicas of half the shared run's batch train on the batches it took on one device:
    with the learning rate unscaled, the same figures in log.csv. Stopped by Ctrl-C, the run on
    two replicas saves a checkpoint that two replicas resume, and one device refuses."""
    runs = tmp_path / "runs"
    mirrored = ["--distribute", "mirrored", "--cpu-devices", "2"]
    one = json.loads((trained_run / "config.json").read_text())
    its_own = ["--data", one["data"], "--image-size", "x".join(map(str, one["image_size"])),
               "--steps-per-epoch", one["steps_per_epoch"], "--epochs", one["epochs"],
               "--no-jit"]
    # logical devices exist only in a process whose TensorFlow has not started yet
    result = run_script("train_context_encoder.py", *its_own,
                        "--batch-size", one["batch_size"] // 2,
                        "--lr-scaling", "none", "--name", "m", "--runs-dir", runs, *mirrored,
                        fresh=True)
    assert result.returncode == 0, result.stderr
    assert "training on 2 replicas (mirrored): global batch 2" in result.stdout
    run = runs / "m"
    config = json.loads((run / "config.json").read_text())
    assert (config["distribute"], config["replicas"], config["batch_size"],
            config["global_batch_size"], config["lr_scale"], config["jit_compile"]) == (
        "mirrored", 2, 1, 2, 1.0, False)
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_0001.png",
                                                                   "epoch_0002.png"]
    assert (run / "model.keras").stat().st_size > 0 and (run / "loss.png").stat().st_size > 0
    rows, reference = _log(run / "log.csv"), _log(trained_run / "log.csv")
    assert [r["epoch"] for r in rows] == ["0", "1"] and len(reference) == 2
    for row, same in zip(rows, reference):
        for name in ("loss", "val_loss"):
            assert float(row[name]) == pytest.approx(float(same[name]), rel=1e-5), name

    resume = [sys.executable, str(ROOT / "train_context_encoder.py"), "--name", "m",
              "--runs-dir", str(runs), "--resume", *mirrored]
    code, out, err = stop_with_ctrl_c([*resume, "--epochs", "500"], run, 3, tmp_path)
    assert code == 130 and "--resume" in err, err[-3000:]
    assert "Epoch 3/500" in out and "Epoch 1/" not in out
    done = json.loads((run / "checkpoints" / "state.json").read_text())["epochs"]
    assert 3 <= done < 500 and _epochs(run / "log.csv") == list(range(done))
    # on one device the global batch would halve: refused, with the way out
    result = run_script("train_context_encoder.py", "--name", "m", "--runs-dir", runs,
                        "--resume", "--epochs", done + 1)
    assert result.returncode == 2
    assert "global batch of 2" in result.stderr and "2 replica(s)" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_script("train_context_encoder.py", "--name", "m", "--runs-dir", runs,
                        "--resume", "--epochs", done + 1, *mirrored, fresh=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Epoch {done + 1}/{done + 1}" in result.stdout
    assert _epochs(run / "log.csv") == list(range(done + 1))


def test_the_learning_rate_grows_with_the_replicas():
    from types import SimpleNamespace

    from training.loop import placement
    four = SimpleNamespace(num_replicas_in_sync=4)
    config = {"name": "x", "batch_size": 8, "no_jit": False}
    for scaling, scale in (("sqrt", 2.0), ("linear", 4.0), ("none", 1.0)):
        spread = placement(SimpleNamespace(distribute="mirrored"),
                           {**config, "lr_scaling": scaling}, four, resume=False)
        assert spread == {"distribute": "mirrored", "replicas": 4, "global_batch_size": 32,
                          "lr_scale": scale, "jit_compile": False}
    one = placement(SimpleNamespace(distribute="none"), {**config, "lr_scaling": "sqrt"},
                    SimpleNamespace(num_replicas_in_sync=1), resume=False)
    assert (one["lr_scale"], one["jit_compile"], one["global_batch_size"]) == (1.0, True, 8)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _workers(script, runs_dirs, *args):
    """Run script as both workers of a two-worker cluster on this machine; worker i keeps its
    runs in runs_dirs[i]. Returns both CompletedProcess-like (returncode, stdout, stderr)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    processes = []
    for index, runs in enumerate(runs_dirs):
        env = {**os.environ, "TF_CONFIG": json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(
            [sys.executable, str(ROOT / script), "--distribute", "multi-worker", "--runs-dir",
             str(runs), *map(str, args)], env=env, cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    results = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=400)
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            raise
        results.append((process.returncode, out, err))
    return results


@pytest.mark.slow
def test_multi_worker_chief_writes_the_run_and_every_worker_resumes(tiny_data, tmp_path):
    chief_runs, other_runs = tmp_path / "runs", tmp_path / "worker1_runs"
    (chief, chief_out, chief_err), (other, _, other_err) = _workers(
        "train_gan.py", [chief_runs, other_runs], "--data", tiny_data, "--epochs", "2",
        "--name", "mw", *TINY)
    assert chief == 0, chief_err[-3000:]
    assert other == 0, other_err[-3000:]
    assert "training on 2 replicas (multi-worker): global batch 4" in chief_out
    run = chief_runs / "mw"
    assert sorted(p.name for p in run.iterdir()) == [
        ".lock", "checkpoints", "config.json", "discriminator.keras", "log.csv", "loss.png",
        "model.keras", "samples"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_0001.png",
                                                                   "epoch_0002.png"]
    config = json.loads((run / "config.json").read_text())
    assert (config["distribute"], config["replicas"], config["global_batch_size"]) == (
        "multi-worker", 2, 4)
    assert _epochs(run / "log.csv") == [0, 1]
    assert not other_runs.exists()  # the other worker wrote nothing anywhere

    # both resume from the chief's checkpoint (a shared folder, as on a cluster's filesystem)
    (chief, chief_out, chief_err), (other, _, other_err) = _workers(
        "train_gan.py", [chief_runs, chief_runs], "--name", "mw", "--resume", "--epochs", "3")
    assert chief == 0, chief_err[-3000:]
    assert other == 0, other_err[-3000:]
    assert "Epoch 3/3" in chief_out and "Epoch 1/" not in chief_out
    assert _epochs(run / "log.csv") == [0, 1, 2]
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["epochs"] == 3 and state["checkpoint"] == "epoch_0003.keras"


def test_multi_worker_needs_a_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = run_script("train_context_encoder.py", "--distribute", "multi-worker", "--name",
                        "x")
    assert result.returncode == 2 and "TF_CONFIG" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_changed_private_keras_name_stops_with_one_line(monkeypatch):
    """utils/distribute.py replaces private Keras methods; a release that renames one or changes
    its parameters must stop the run with a line naming the version, not skip the fix."""
    import keras

    from utils import distribute
    from utils.errors import UserError
    distribute.check_private_api()  # the installed Keras has every name as expected
    renamed = {"keras.optimizers.Adam._clip_gradients_renamed": ("self", "grads")}
    with pytest.raises(UserError, match=f"Keras {keras.__version__} is not supported.*is missing"):
        distribute.check_private_api(renamed)
    changed = {"keras.Model._maybe_symbolic_build": ("self", "data_batch")}
    with pytest.raises(UserError, match=r"takes \(self, iterator, data_batch\)"):
        distribute.check_private_api(changed)
    monkeypatch.setattr(distribute, "PRIVATE_API", renamed)  # checked as a run starts
    with pytest.raises(UserError, match="is not supported"):
        distribute.make_strategy("none")
