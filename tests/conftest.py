"""Shared fixtures: generated paintings on disk, the repository root, the shared data folder, and
running the scripts."""
import ast
import contextlib
import importlib
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))
from utils import env  # noqa: E402

env.prepare()  # TensorFlow's environment, before any test imports it
from utils.masks import Holes, damage  # noqa: E402


def synthetic_painting(rng, height=60, width=80):
    """A smooth colour field with a few hard-edged shapes: enough structure to inpaint."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([0.5 + 0.4 * np.sin(2 * np.pi * (f * x + g * y) + p)
                     for f, g, p in rng.uniform(0.3, 1.5, (3, 3))], axis=-1)
    for _ in range(3):
        r0, c0 = rng.integers(0, height // 2), rng.integers(0, width // 2)
        base[r0:r0 + height // 4, c0:c0 + width // 4] = rng.uniform(0, 1, 3)
    return np.clip(base, 0, 1).astype(np.float32)


LOSS_RGB = np.array([0.86, 0.62, 0.52])  # pinkish parchment, the manuscripts' loss colour


def textured_painting(rng, height=200, width=300):
    """Dark, textured paint in a few colours (a painted surface, not a flat field)."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([0.30 + 0.12 * np.sin(2 * np.pi * (f * x + g * y) + p)
                     for f, g, p in rng.uniform(0.5, 2.0, (3, 3))], axis=-1)
    grain = cv2.GaussianBlur(rng.normal(0, 0.06, (height, width, 3)), (0, 0), 0.8)
    return np.clip(base + grain, 0, 1).astype(np.float32)


def with_losses(rng, image, count=4, radius=(8, 16)):
    """image with count flat, pale, pinkish losses (discs with ragged edges); and their mask."""
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    for _ in range(count):
        centre = (int(rng.integers(30, width - 30)), int(rng.integers(30, height - 30)))
        cv2.circle(mask, centre, int(rng.integers(*radius)), 1, -1)
    ragged = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 2)
    mask = (cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 3) + 0.15 * ragged > 0.5)
    damaged = image.copy()
    damaged[mask] = LOSS_RGB + rng.normal(0, 0.01, (int(mask.sum()), 3))
    return np.clip(damaged, 0, 1).astype(np.float32), mask


def damaged_painting(seed=0, shape=(120, 180)):
    """(damaged, clean, true mask): a painting with white flakes and two white cracks."""
    rng = np.random.default_rng(seed)
    clean = synthetic_painting(rng, *shape) * 0.85  # no paint as white as the damage
    mask = Holes(count=300)(shape, rng)
    cv2.line(mask, (10, 10), (150, 100), 1.0, 2)
    cv2.line(mask, (20, 110), (170, 30), 1.0, 3)
    mask = (mask > 0).astype(np.float32)
    return damage(clean, mask), clean, mask


def write_paintings(folder, count, seed=0, size=(60, 80)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        image = synthetic_painting(rng, *size)
        Image.fromarray((image * 255).astype(np.uint8)).save(folder / f"painting_{index:02d}.png")
    return folder


@pytest.fixture
def painting_dir(tmp_path):
    """A folder of 8 generated paintings."""
    return write_paintings(tmp_path / "paintings", 8)


@pytest.fixture
def data_dir(tmp_path):
    """A painting folder with a train/val split, for the train scripts."""
    write_paintings(tmp_path / "data" / "train", 6, seed=1)
    write_paintings(tmp_path / "data" / "val", 2, seed=2)
    return tmp_path / "data"


# The shared run's options: tiny images, two steps an epoch, uncompiled (the tests that share it
# are about the run's folder, resuming and signals, not XLA: test_context_encoder2.py compiles
# the Context Encoder's step).
TRAINED_RUN = ["--image-size", "64x96", "--steps-per-epoch", "2", "--batch-size", "2", "--no-jit",
               "--epochs", "2"]


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """runs/trained/: a Context Encoder trained for 2 epochs with TRAINED_RUN on 6 + 2 generated
    paintings, once per session for every test that needs a finished run. Read it only: a test
    that resumes, stops or damages a run does so on its own copy_run(trained_run, ...), and the
    session fails at its end if this folder changed."""
    root = tmp_path_factory.mktemp("trained")
    write_paintings(root / "data" / "train", 6, seed=1)
    write_paintings(root / "data" / "val", 2, seed=2)
    result = run_script("train_context_encoder.py", "--data", root / "data", "--name", "trained",
                        "--runs-dir", root / "runs", *TRAINED_RUN)
    assert result.returncode == 0, result.stderr
    run = root / "runs" / "trained"
    made = digests(run)
    yield run
    assert digests(run) == made, f"a test changed the shared run {run}: use copy_run"


def copy_run(run, runs_dir):
    """A copy of the run folder run in runs_dir, under the same name, for a test to change."""
    return Path(shutil.copytree(run, Path(runs_dir) / run.name))


@pytest.fixture
def shared_data():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared paintings are only on the project's machines")
    return SHARED


def run_script(script, *args, fresh=False, timeout=300):
    """Run a top-level script as a user runs it: its options, its output, its exit status, in a
    CompletedProcess. In this process by default, through the script's own cli.run (TensorFlow,
    the models and the imports load once per session instead of about 4 s a run); fresh=True
    starts a new Python process, for what only a process shows: TensorFlow's start-up lines,
    logical devices made before TensorFlow starts, signals, limits."""
    args = [str(a) for a in args]
    if fresh:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return subprocess.run([sys.executable, str(ROOT / script), *args], env=env,
                              capture_output=True, text=True, timeout=timeout)
    from utils import cli
    module = importlib.import_module(Path(script).stem)
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, logging.root.handlers[:], logging.root.level
    logging.root.handlers.clear()  # cli.run's basicConfig binds to this run's stderr
    sys.argv = [str(ROOT / script), *args]  # what a record says of the command
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.run(module.main, module.parse_args, args)
            except SystemExit as stop:
                if isinstance(stop.code, str):
                    print(stop.code, file=sys.stderr)
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            except Exception:  # a traceback, as the process would print it
                traceback.print_exc()
                code = 1
    finally:
        sys.argv, logging.root.handlers[:], level = saved
        logging.root.setLevel(level)
    return subprocess.CompletedProcess([script, *args], code, out.getvalue(),
                                       err.getvalue())


def stop_with_ctrl_c(command, run, epochs, out):
    """Start command, a train script continuing the run folder run, in its own process; once the
    run's checkpoint holds epochs, press Ctrl-C. Returns its (exit status, stdout, stderr), which
    it wrote to files in out (a pipe left unread could fill and stop it)."""
    state = Path(run) / "checkpoints" / "state.json"
    with open(out / "stdout", "w+") as stdout, open(out / "stderr", "w+") as stderr:
        process = subprocess.Popen(list(map(str, command)), stdout=stdout, stderr=stderr,
                                   text=True)
        deadline = time.time() + 240
        def done():  # a new run has no state.json until its first epoch is saved
            try:
                return json.loads(state.read_text())["epochs"]
            except (OSError, ValueError, KeyError):
                return 0
        while done() < epochs and time.time() < deadline and process.poll() is None:
            time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        finally:
            if process.poll() is None:  # hung: the test fails, and leaves no process behind
                process.kill()
                process.wait()
        stdout.seek(0)
        stderr.seek(0)
        return process.returncode, stdout.read(), stderr.read()


def digests(folder):
    """{path: sha256} of every file under folder: what a run must leave as it was."""
    import hashlib
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(folder).rglob("*")
            if p.is_file()}


def error_line(result):
    """The one `error:` line a script's failure ends with (exit status 2, no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and lines[-1].startswith("error: "), lines
    return lines[-1]


def imports(path):
    """The top-level names of every module a file imports absolutely (at any depth of its code)."""
    found = set()
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found
