"""Shared fixtures: generated paintings on disk, the repository root, the shared data folder."""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))
import utils  # noqa: E402,F401  (sets TensorFlow's environment before anything imports it)


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


@pytest.fixture
def shared_data():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared paintings are only on the project's machines")
    return SHARED


def run_script(script, *args, timeout=300, **kwargs):
    """Run a top-level script in a fresh Python process; returns the CompletedProcess."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, **kwargs)
