"""Issue 22's hostile cases, each as a test of its class: no tool replaces a file it did not
write (proven by the record's sha256, not by a file anyone can write), sets of outputs are whole
or absent under failed writes, kills and concurrent runs, every tool reads the same formats,
and every fault is one line, never a traceback, a hang or a silent drop."""
import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import (ROOT, damaged_painting, digests, error_line, run_script,
                      write_paintings)
from scans.saving import foreign_files, output_set, write_restoration
from utils.files import PARTIAL, commit_set, partial_name, remove_stale_partials
from scans.scan import Scan, read_scan

TELEA = ["--method", "telea"]


def _save(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    return path


def _painting(folder, name="p1.png", seed=0):
    damaged, _, truth = damaged_painting(seed=seed)
    return _save(Path(folder) / name, damaged), truth


# -- no tool replaces a file it did not write -------------------------------------------------

@pytest.mark.parametrize("own", ["p1_record.json", "p1_mask.png", "p1_figure.jpg",
                                 "p1_restored.png"])
def test_restore_keeps_every_file_of_the_users_that_is_named_like_an_output(tmp_path, own):
    """restore.py DIR -o DIR, and one painting -o its own folder: a user's file with an output's
    name is kept, with one line; in a folder scan an image of the user's counts as an input
    (the run stops before writing), a record of the user's costs only its painting."""
    folder = tmp_path / "b2"
    _painting(folder, "p1.png")
    _painting(folder, "p2.png", seed=1)
    (folder / own).write_bytes(b"the user's own file")
    before = (folder / own).read_bytes()
    result = run_script("restore.py", folder, "-o", folder, *TELEA)
    assert result.returncode == 2 and own in result.stderr and "Traceback" not in result.stderr
    assert (folder / own).read_bytes() == before
    if own.endswith(".json"):
        assert (folder / "p2_restored.png").exists()  # the other painting went on
    # one painting, not a folder scan
    assert "--overwrite" in error_line(run_script("restore.py", folder / "p1.png", "-o", folder,
                                              *TELEA))
    assert (folder / own).read_bytes() == before
    # asked to, it replaces them
    result = run_script("restore.py", folder / "p1.png", "-o", folder, *TELEA, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert (folder / own).read_bytes() != before


def test_a_stale_or_hand_made_record_proves_nothing(tmp_path):
    folder = tmp_path / "scans"
    painting, _ = _painting(folder, "z.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "z_mask.png").write_bytes(b"hand-drawn")
    # a record naming z_mask.png as its output, as a stale or hand-made one would
    record = {"input": {"path": str(painting.resolve())},
              "outputs": {k: str(p.resolve()) for k, p in output_set(out / "z_restored.png")
                          .items()},
              "output_sha256": {"mask": "0" * 64}}
    (out / "z_record.json").write_text(json.dumps(record))
    assert foreign_files([out / "z_mask.png"]) == [out / "z_mask.png"]
    error_line(run_script("restore.py", painting, "-o", out, *TELEA))
    assert (out / "z_mask.png").read_bytes() == b"hand-drawn"
    # a real run's record proves its own files, and a second run replaces them
    (out / "z_mask.png").unlink()
    (out / "z_record.json").unlink()
    assert run_script("restore.py", painting, "-o", out, *TELEA).returncode == 0
    assert foreign_files(output_set(out / "z_restored.png").values(), painting) == []
    assert run_script("restore.py", painting, "-o", out, *TELEA).returncode == 0
    # edited by hand afterwards, the mask is the user's again
    (out / "z_mask.png").write_bytes(b"touched up by hand")
    error_line(run_script("restore.py", painting, "-o", out, *TELEA))
    assert (out / "z_mask.png").read_bytes() == b"touched up by hand"


def test_outputs_made_from_another_painting_of_the_same_name_are_kept(tmp_path):
    a, _ = _painting(tmp_path / "a", "x.png")
    b, _ = _painting(tmp_path / "b", "x.png", seed=2)
    out = tmp_path / "out"
    assert run_script("restore.py", a, "-o", out, *TELEA).returncode == 0
    before = digests(out)
    assert "--overwrite" in error_line(run_script("restore.py", b, "-o", out, *TELEA))
    assert digests(out) == before


def test_pixel_diff_never_replaces_another_painting_or_an_existing_output(tmp_path):
    a, _ = _painting(tmp_path, "a.png")
    b, _ = _painting(tmp_path, "b.png", seed=1)
    roi = ["--roi", "10,10,60,40"]
    before = digests(tmp_path)
    assert "--overwrite" in error_line(run_script("pixel_diff.py", a, *roi, "-o", b))
    (tmp_path / "a_restored.png").write_bytes(b"made elsewhere")
    assert "--overwrite" in error_line(run_script("pixel_diff.py", a, *roi))
    assert digests(tmp_path) == {**before, tmp_path / "a_restored.png":
                                  hashlib.sha256(b"made elsewhere").hexdigest()}
    result = run_script("pixel_diff.py", a, *roi, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert run_script("pixel_diff.py", a, *roi).returncode == 0  # its own set: replaced


def test_evaluate_never_replaces_the_users_files_in_its_out_folder(tmp_path):
    write_paintings(tmp_path / "data", 2, size=(64, 96))
    (tmp_path / "data" / "results.csv").write_text("the user's own table\n")
    args = ["--data", tmp_path / "data", "--image-size", "64x96", "--methods", "telea",
            "--masks", "centre", "--seeds", "0"]
    assert "--overwrite" in error_line(run_script("evaluate.py", *args, "--out", tmp_path / "data"))
    assert (tmp_path / "data" / "results.csv").read_text() == "the user's own table\n"
    out = tmp_path / "eval"
    for _ in range(2):  # its own results: replaced by the next run
        assert run_script("evaluate.py", *args, "--out", out).returncode == 0


@pytest.mark.slow
def test_a_finished_run_is_never_restarted_over(tmp_path):
    write_paintings(tmp_path / "data" / "train", 4, size=(64, 96))
    write_paintings(tmp_path / "data" / "val", 2, seed=1, size=(64, 96))
    args = ["--data", tmp_path / "data", "--runs-dir", tmp_path / "runs", "--name", "r",
            "--image-size", "64x96", "--steps-per-epoch", "1", "--batch-size", "2", "--epochs",
            "1", "--no-jit"]
    assert run_script("train_context_encoder.py", *args).returncode == 0
    run = tmp_path / "runs" / "r"
    import shutil
    shutil.rmtree(run / "checkpoints")
    before = digests(run)
    assert "another --name" in error_line(run_script("train_context_encoder.py", *args))
    assert digests(run) == before
    # a resume without its config, or with a damaged one, is one line
    (run / "config.json").write_text("")
    assert "not readable JSON" in error_line(run_script("train_context_encoder.py", *args,
                                                    "--resume"))
    (run / "config.json").write_text("{}")
    assert "lacks" in error_line(run_script("train_context_encoder.py", *args, "--resume"))


def test_training_numbers_and_folders_are_checked_before_anything_starts(tmp_path):
    (tmp_path / "runs").write_text("a file")
    base = ["--steps-per-epoch", "1", "--epochs", "1", "--no-jit"]
    assert "is a file" in error_line(run_script("train_context_encoder.py", *base, "--runs-dir",
                                            tmp_path / "runs"))
    for option in (["--image-size", "32000x32000"], ["--batch-size", "100000"]):
        assert "GB of memory" in error_line(run_script("train_context_encoder.py", *base, *option,
                                                   "--runs-dir", tmp_path / "r2"))
    assert not (tmp_path / "r2").exists()


# -- sets whole or absent ------------------------------------------------------------------------

def _write_set(out, value, fail=None):
    scan = Scan(np.full((20, 30, 3), value, np.uint8))
    mask = np.zeros((20, 30), np.uint8)
    mask[5:10, 5:10] = 1
    outputs = output_set(out / "p_restored.png")

    def record():
        if fail == "record":
            raise OSError(errno.ENOSPC, "No space left on device")
        return {"input": {"path": "p.png"}}
    return outputs, lambda: write_restoration(outputs, scan, mask, scan.colour, "telea", "png",
                                              record)


@pytest.mark.parametrize("fault", ["restored", "mask", "figure", "record", "commit"])
def test_a_failed_write_at_any_point_leaves_the_earlier_set_as_it_was(tmp_path, monkeypatch,
                                                                      fault):
    import scans.saving as saving
    outputs, write = _write_set(tmp_path, 10)
    write()
    before = digests(tmp_path)
    if fault in ("restored", "mask"):
        real = saving.write_scan

        def full_disk(path, scan, fmt):
            if (fault == "restored") == (scan.colour.shape[2] == 3):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(path, scan, fmt)
        monkeypatch.setattr(saving, "write_scan", full_disk)
    elif fault == "figure":
        def no_figure(*args):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(saving, "restoration_figure", no_figure)
    elif fault == "commit":
        def no_journal(moves, check=None):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(saving, "commit_set", no_journal)
    _, again = _write_set(tmp_path, 200, fail="record" if fault == "record" else None)
    with pytest.raises(OSError):
        again()
    assert digests(tmp_path) == before  # the four files as they were, no temporary left


def test_a_kill_in_the_middle_of_a_commit_is_completed_by_the_next_run(tmp_path):
    """A journal left by a dead process (killed between the renames) is rolled forward: the new
    set whole; the temporaries of a live process (a concurrent run, holding its lock) are left
    alone. (Killed between each pair of renames, for each tool: test_files_safety.py.)"""
    outputs, write = _write_set(tmp_path, 10)
    write()
    live_token = "0123456789abcdef"
    lock = tmp_path / f"{PARTIAL}{live_token}.lock"
    lock.touch()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(lock)!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        dead = "fedcba9876543210"  # a killed process's token: no one holds its lock
        new = {kind: tmp_path / f"{PARTIAL}{dead}-abcd-{path.name}"
               for kind, path in outputs.items()}
        for kind, path in new.items():
            path.write_bytes(f"new {kind}".encode())
        moves = [(new[k], outputs[k]) for k in ("restored", "mask", "figure", "record")]
        os.replace(*moves[0])  # killed after the first rename
        (tmp_path / f"{PARTIAL}{dead}-ab12-p.journal.json").write_text(json.dumps(
            {"token": dead, "moves": [[str(a), str(b)] for a, b in moves]}))
        live = tmp_path / f"{PARTIAL}{live_token}-ef01-q_restored.png"
        live.write_bytes(b"another run's file, being written")
        remove_stale_partials(tmp_path)
        assert {outputs[k].read_bytes() for k in outputs} == {
            f"new {k}".encode() for k in outputs}
        assert live.exists()  # a running process's file
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [p.name for p in outputs.values()] + [live.name, lock.name])
    finally:
        holder.kill()
        holder.wait()
    remove_stale_partials(tmp_path)  # its process gone, its files are stale
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in outputs.values())


def test_concurrent_commits_into_one_folder_never_mix_their_sets(tmp_path):
    import threading
    outputs = output_set(tmp_path / "p_restored.png")
    errors = []

    def commit(tag):
        try:
            for round_ in range(30):
                moves = []
                for kind, path in outputs.items():
                    temporary = partial_name(path)
                    temporary.write_text(f"{tag}")
                    moves.append((temporary, path))
                commit_set(moves)
                values = {p.read_text() for p in outputs.values()}
                # another thread may commit next, but never halfway into ours
                assert len(values) == 1 or len(values) == 2
        except AssertionError as error:
            errors.append(error)
    threads = [threading.Thread(target=commit, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({p.read_text() for p in outputs.values()}) == 1  # the last set, whole


@pytest.mark.slow
def test_a_killed_worker_costs_at_most_its_painting(tmp_path):
    """restore.py --jobs 2 with two workers killed, one after the other (as the OOM killer
    would): the batch goes on, the paintings the dead workers had begun are tried again alone,
    the others are not counted against; every painting's set is whole or absent, and no
    temporary is left."""
    folder = tmp_path / "in"
    for index in range(6):
        _painting(folder, f"q{index}.png", seed=index)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, str(ROOT / "restore.py"), folder, "-o", out,
                                "--jobs", "2", "--model", "none"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    killed = []
    deadline = time.time() + 180
    while len(killed) < 2 and time.time() < deadline and process.poll() is None:
        for child in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"multiprocessing" in cmdline and b"spawn_main" in cmdline \
                    and int(child) not in killed:
                time.sleep(3)  # let it start on a painting
                os.kill(int(child), signal.SIGKILL)
                killed.append(int(child))
                break
        time.sleep(0.2)
    _, stderr = process.communicate(timeout=600)
    assert len(killed) == 2
    assert "Traceback" not in stderr
    assert process.returncode in (0, 2), stderr
    for index in range(6):
        present = [p.exists() for p in output_set(out / f"q{index}_restored.png").values()]
        assert all(present) or not any(present), (index, present)
    restored = sum((out / f"q{i}_restored.png").exists() for i in range(6))
    assert restored >= 5, stderr  # at most the one painting whose worker died twice
    assert not list(out.glob(PARTIAL + "*"))


# -- one reader, one line ----------------------------------------------------------------------

def test_a_mask_that_is_text_or_empty_is_one_line_and_only_its_painting_is_skipped(tmp_path):
    folder = tmp_path / "in"
    masks = tmp_path / "masks"
    for index in range(3):
        _, truth = _painting(folder, f"m{index}.png", seed=index)
        _save(masks / f"m{index}_mask.png", np.repeat(truth[..., None], 3, -1))
    (masks / "m1_mask.png").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    assert "not a readable image" in error_line(run_script("restore.py", folder / "m0.png",
                                                       "--mask", tmp_path / "empty.png",
                                                       "-o", tmp_path / "o1", *TELEA))
    result = run_script("restore.py", folder, "--mask", masks, "-o", tmp_path / "o2", *TELEA,
                        "--jobs", "1")
    assert result.returncode == 2 and "m1" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "o2").glob("*_restored.png")) == [
        "m0_restored.png", "m2_restored.png"]


def test_a_truncated_png_among_paintings_costs_only_itself(tmp_path):
    folder = tmp_path / "in"
    for index in range(4):
        _painting(folder, f"t{index}.png", seed=index)
    data = (folder / "t2.png").read_bytes()
    (folder / "t2.png").write_bytes(data[:len(data) // 2])
    result = run_script("restore.py", folder, "-o", tmp_path / "out", *TELEA, "--jobs", "1")
    assert result.returncode == 2 and "t2" in result.stderr and "Traceback" not in result.stderr
    assert len(list((tmp_path / "out").glob("*_restored.png"))) == 3


def _tiff(path, array, **options):
    import tifffile
    tifffile.imwrite(path, array, **options)
    return path


def test_every_tool_reads_and_refuses_the_same_tiffs(tmp_path):
    rng = np.random.default_rng(0)
    gray_alpha = _tiff(tmp_path / "ga16.tif", rng.integers(0, 65535, (40, 60, 2), np.uint16),
                       photometric="minisblack", extrasamples=[2])
    extra16 = _tiff(tmp_path / "x16.tif", rng.integers(0, 65535, (40, 60, 5), np.uint16),
                    photometric="rgb", extrasamples=[2, 0], planarconfig="contig")
    extra8 = _tiff(tmp_path / "x8.tif", rng.integers(0, 255, (40, 60, 5), np.uint8),
                   photometric="rgb", extrasamples=[2, 0], planarconfig="contig")
    assert read_scan(gray_alpha).alpha is not None
    for path in (extra16, extra8):
        with pytest.raises(Exception, match="samples per pixel"):
            read_scan(path)
    roi = ["--roi", "5,5,20,10"]
    for tool, args in (("restore.py", ["-o", tmp_path / "out", *TELEA]),
                       ("pixel_diff.py", roi)):
        result = run_script(tool, gray_alpha, *args)
        assert result.returncode == 0, (tool, result.stderr)
        for path in (extra16, extra8):
            assert "samples per pixel" in error_line(run_script(tool, path, *args))


def test_frames_left_out_are_said_and_recorded(tmp_path):
    frames = [Image.fromarray(np.full((30, 40, 3), v, np.uint8)) for v in (60, 120, 180)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    _tiff(tmp_path / "pages.tif", np.stack([np.asarray(f) for f in frames]))
    for name in ("anim.gif", "pages.tif"):
        mask = tmp_path / f"{name}_mask.png"
        Image.fromarray(np.pad(np.full((10, 10), 255, np.uint8), ((10, 10), (15, 15)))).save(mask)
        result = run_script("restore.py", tmp_path / name, "--mask", mask, "-o",
                            tmp_path / "out", *TELEA)
        assert result.returncode == 0, result.stderr
        assert "warning:" in result.stderr and "3 frames" in result.stderr
        stem = Path(name).stem
        record = json.loads((tmp_path / "out" / f"{stem}_record.json").read_text())
        assert any("3 frames" in note for note in record["input"]["conversions"])


def test_a_mask_drawn_in_transparency_is_read(tmp_path):
    painting, _ = _painting(tmp_path, "a.png")
    rgba = np.zeros((120, 180, 4), np.uint8)
    rgba[40:60, 50:90, 3] = 255  # drawn in alpha alone: colour black everywhere
    Image.fromarray(rgba).save(tmp_path / "alpha_mask.png")
    result = run_script("restore.py", painting, "--mask", tmp_path / "alpha_mask.png", "-o",
                        tmp_path / "out", *TELEA)
    assert result.returncode == 0, result.stderr
    mask = np.asarray(Image.open(tmp_path / "out" / "a_mask.png")) > 0
    assert mask.sum() == 20 * 40 and mask[40:60, 50:90].all()


@pytest.mark.parametrize("tool", ["restore.py", "pixel_diff.py"])
def test_a_path_that_is_not_a_regular_file_is_refused_at_once(tmp_path, tool):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    args = ["-o", tmp_path / "out"] if tool == "restore.py" else ["--roi", "1,1,5,5"]
    start = time.perf_counter()
    assert "not a regular file" in error_line(run_script(tool, fifo, *args, timeout=60))
    assert time.perf_counter() - start < 30


def test_an_interrupt_at_any_point_of_an_epoch_end_keeps_state_and_log_in_step(tmp_path):
    """Ctrl-C while the epoch's end is being written: the checkpoint's epochs and the log's rows
    stay equal (they once counted an epoch whose row was lost)."""
    import csv

    import keras
    from training.loop import RunCallback
    from training.run import Run
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    run = Run(tmp_path, {"name": "r", "epochs": 5})
    (tmp_path / "samples").mkdir()
    run.save_checkpoint(model, 1, 0.5, {"epoch": 0, "loss": 1.0})

    class Interrupted(RunCallback):
        def __init__(self):
            super().__init__(run, samples=None, show=lambda model, samples: (
                [[np.zeros((4, 6, 3), np.float32)]], ["sample"]))

    callback = Interrupted()
    callback.set_model(model)
    real = run.save_checkpoint

    def killed(*args, **kwargs):
        raise KeyboardInterrupt
    run.save_checkpoint = killed
    with pytest.raises(KeyboardInterrupt):
        callback.on_epoch_end(1, {"loss": 0.9, "val_loss": 0.8})
    run.save_checkpoint = real
    assert callback.epochs_done == 1  # the epoch whose row was not written is not counted
    run.save_checkpoint(model, callback.epochs_done, callback.best)  # what Ctrl-C saves
    state = json.loads((tmp_path / "checkpoints" / "state.json").read_text())
    with open(tmp_path / "log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert state["epochs"] == len(state["log"]) == len(rows) == 1
