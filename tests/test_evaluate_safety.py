"""evaluate.py is as careful as restore.py: its results are one set (whole or not at all, its own
earlier set replaced, a user's file or a link never), its data folder never includes its own
results, no number is NaN or wrong and called success, and no bad argument is a traceback."""
import csv
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import evaluate
from conftest import ROOT, digests, error_line, run_script, write_paintings
from utils.files import sha256

QUICK = ["--image-size", "64x96", "--methods", "telea", "--seeds", "0"]


@pytest.fixture
def data(tmp_path):
    return write_paintings(tmp_path / "data", 2, size=(64, 96))


def run(data, out, *extra):
    return run_script("evaluate.py", "--data", data, "--out", out, *QUICK, *extra)


def record_holds(out):
    """Whether out's files are exactly the set its record lists, each with its sha256."""
    record = json.loads((out / evaluate.RECORD).read_text())
    files = {p.name for p in out.iterdir()}
    return files == {*record["sha256"], evaluate.RECORD} and all(
        sha256(out / name) == digest for name, digest in record["sha256"].items())


def full_disk():
    raise OSError(errno.ENOSPC, "No space left on device")


# -- one set, whole or not at all ----------------------------------------------------------------

@pytest.mark.parametrize("fault", ["per_image.csv", "psnr.png", "examples.png", "record",
                                   "commit", "everywhere"])
def test_a_full_disk_at_any_point_leaves_the_earlier_set_as_it_was(data, tmp_path, monkeypatch,
                                                                   fault):
    out = tmp_path / "out"
    assert run(data, out, "--masks", "centre").returncode == 0
    before = digests(out)
    ours = (lambda path: True) if fault == "everywhere" else (
        lambda path: Path(path).parent == out)

    def failing(real, position, name):
        def write(*args, **kwargs):
            path = Path(args[position])
            if path.name.endswith(name) and ours(path):
                path.write_bytes(b"half a file")  # what a full disk leaves
                full_disk()
            return real(*args, **kwargs)
        return write
    targets = {"per_image.csv": ("write_csv", 0), "everywhere": ("write_csv", 0),
               "psnr.png": ("grouped_bars", 3), "examples.png": ("image_grid", 2)}
    if fault in targets:
        function, position = targets[fault]
        name = "per_image.csv" if fault == "everywhere" else fault
        monkeypatch.setattr(evaluate, function,
                            failing(getattr(evaluate, function), position, name))
    elif fault == "record":
        real_json, calls = evaluate.record_json, []

        def record_json(record):
            calls.append(record)
            return full_disk() if len(calls) == 1 else real_json(record)
        monkeypatch.setattr(evaluate, "record_json", record_json)
    else:
        real_commit = evaluate.commit_set
        monkeypatch.setattr(evaluate, "commit_set", lambda moves, check=None: full_disk()
                            if Path(moves[0][1]).parent == out else real_commit(moves, check))
    result = run(data, out, "--masks", "centre", "holes")
    line = error_line(result)
    named = {"record": evaluate.RECORD, "commit": str(out),
             "everywhere": "per_image.csv"}.get(fault, fault)
    assert "No space left on device" in line and named in line and f"{out} is as it was" in line
    assert digests(out) == before  # every file as it was, no temporary left
    if fault == "everywhere":
        assert "only in the tables above" in line and "| telea | holes |" in result.stdout
        assert not Path(line.split("could not write ")[-1].split(" either")[0]).parent.exists()
    else:  # the hours of evaluation are not lost: the whole set is elsewhere, with its record
        fallback = Path(line.split("results are in ")[1].split(" instead")[0])
        assert record_holds(fallback) and (fallback / "large_holes.png").is_file()
        shutil.rmtree(fallback)
    monkeypatch.undo()
    assert run(data, out, "--masks", "holes").returncode == 0  # its own folder: not refused
    assert record_holds(out) and not (out / "large_holes.png").exists()


def test_a_second_run_replaces_its_own_set_and_never_a_users_file(data, tmp_path):
    out = tmp_path / "out"
    assert run(data, out, "--masks", "centre").returncode == 0
    assert record_holds(out)
    record = json.loads((out / evaluate.RECORD).read_text())
    assert record["tool"] == "evaluate.py" and record["project_version"]
    assert record["methods"] == ["telea"] and record["seeds"] == [0]
    assert [p["sha256"] for p in record["paintings"]] == [
        sha256(p) for p in sorted(data.iterdir())]
    # holes only: no large hole to show, so the earlier large_holes.png goes with its set
    assert run(data, out, "--masks", "holes").returncode == 0
    assert record_holds(out) and not (out / "large_holes.png").exists()

    (out / "results.csv").write_text("the user's own table\n")
    before = digests(out)
    assert "--overwrite" in error_line(run(data, out, "--masks", "holes"))
    assert digests(out) == before
    assert run(data, out, "--masks", "holes", "--overwrite").returncode == 0
    assert record_holds(out)

    for name in evaluate.OUTPUTS:
        (out / name).unlink(missing_ok=True)
    (out / evaluate.RECORD).write_text("{}")  # a file of the record's name that proves nothing
    assert f"{evaluate.RECORD} exists and no evaluate.py run wrote it" in error_line(
        run(data, out, "--masks", "holes"))
    assert (out / evaluate.RECORD).read_text() == "{}"


def test_a_users_file_that_appears_during_the_run_is_not_replaced(data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = evaluate.summarise

    def meanwhile(rows):
        (out / "psnr.png").write_bytes(b"the user's chart")
        return real(rows)
    monkeypatch.setattr(evaluate, "summarise", meanwhile)
    line = error_line(run(data, out, "--masks", "centre"))
    assert "psnr.png exists and no evaluate.py run wrote it" in line and "results are in" in line
    shutil.rmtree(line.split("results are in ")[1].split(" instead")[0])
    assert sorted(p.name for p in out.iterdir()) == ["psnr.png"]
    assert (out / "psnr.png").read_bytes() == b"the user's chart"


def test_a_link_in_the_output_folder_is_never_followed(data, tmp_path):
    out, outside = tmp_path / "out", tmp_path / "notes.txt"
    out.mkdir()
    outside.write_text("a user's notes\n")
    (out / "results.csv").symlink_to(outside)
    (out / "psnr.png").symlink_to(tmp_path / "nowhere.png")  # dangling
    assert "is a link (never followed)" in error_line(run(data, out, "--masks", "centre"))
    assert run(data, out, "--masks", "centre", "--overwrite").returncode == 0
    assert outside.read_text() == "a user's notes\n" and not (tmp_path / "nowhere.png").exists()
    assert not (out / "results.csv").is_symlink() and record_holds(out)

    # a record reached through a link proves nothing, even a true one
    (tmp_path / "record.json").write_bytes((out / evaluate.RECORD).read_bytes())
    (out / evaluate.RECORD).unlink()
    (out / evaluate.RECORD).symlink_to(tmp_path / "record.json")
    assert "--overwrite" in error_line(run(data, out, "--masks", "centre"))

    (out / evaluate.RECORD).unlink()
    for name in evaluate.OUTPUTS:
        (out / name).unlink()
    (out / "examples.png").mkdir()  # a folder is never replaced, even with --overwrite
    assert "is a folder" in error_line(run(data, out, "--masks", "centre", "--overwrite"))


@pytest.mark.slow
def test_a_kill_between_the_renames_is_completed_by_the_next_run(data, tmp_path):
    """Killed after the first rename of its set, a run leaves a journal; the next run, from
    another working directory, rolls it forward and then replaces the set as its own."""
    out = tmp_path / "out"
    assert run(data, out, "--masks", "centre").returncode == 0
    killer = (f"import os, runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
              "real = os.replace\n"
              "def replace(a, b):\n"
              "    real(a, b)\n"
              f"    if os.path.dirname(os.path.abspath(b)) == {str(out)!r}:\n"
              "        os._exit(9)\n"
              "os.replace = replace\n"
              f"sys.argv = ['evaluate.py', '--data', {str(data)!r}, '--out', {str(out)!r}, "
              f"*{QUICK!r}, '--masks', 'holes']\n"
              f"runpy.run_path({str(ROOT / 'evaluate.py')!r}, run_name='__main__')\n")
    killed = subprocess.run([sys.executable, "-c", killer], capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == 9, killed.stderr
    assert any(p.name.endswith(".journal.json") for p in out.iterdir())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([sys.executable, str(ROOT / "evaluate.py"), "--data", data, "--out",
                             out, *QUICK, "--masks", "centre"], cwd=elsewhere,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert record_holds(out)


# -- the data folder never includes the output folder --------------------------------------------

@pytest.mark.parametrize("where", ["data itself", "inside data"])
def test_the_output_folder_is_never_evaluated_as_paintings(data, where):
    out = data if where == "data itself" else data / "eval"
    for attempt in range(2):
        result = run(data, out, "--masks", "centre")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("2 images from")  # never its own charts
        assert ("are evaluate.py's own results" in result.stderr) == (attempt == 1)
    record = json.loads((out / evaluate.RECORD).read_text())
    assert [Path(p["path"]).name for p in record["paintings"]] == ["painting_00.png",
                                                                   "painting_01.png"]


def test_a_painting_named_like_an_output_elsewhere_is_still_a_painting(data, tmp_path):
    Image.open(data / "painting_00.png").save(data / "examples.png")
    result = run(data, tmp_path / "out", "--masks", "centre")
    assert result.returncode == 0 and result.stdout.startswith("3 images from"), result.stderr


# -- numbers never NaN, never wrong and called success -------------------------------------------

def _nan_model(path, shape=(64, 96, 3)):
    """An inpainting model (RGB in, RGB out) whose every output is NaN."""
    import keras
    inputs = keras.Input(shape)
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([kernel, np.full_like(bias, np.nan)])
    model.save(path)
    return path


@pytest.mark.parametrize("mode", [[], ["--full-size"]])
def test_a_model_that_returns_nan_is_refused_naming_it(data, tmp_path, mode):
    model = _nan_model(tmp_path / "diverged.keras")
    out = tmp_path / "out"
    line = error_line(run(data, out, "--masks", "centre", "--models", model, *mode))
    assert "diverged" in line and "NaN" in line
    assert not list(out.iterdir())  # nothing written, not even a temporary


def test_a_painting_without_a_hole_pixel_is_reported_as_such_never_nan(data, tmp_path,
                                                                        monkeypatch):
    """Masks that lost every hole pixel (painting 1 of every kind; then every painting): its
    measures are empty cells and n/a, the others are measured, nothing is NaN."""
    real = evaluate.fixed_masks
    keep = {"paintings": 1}

    def holes_lost(kind, count, shape, seed):
        masks = real(kind, count, shape, seed)
        masks[keep["paintings"]:] = 0
        return masks
    monkeypatch.setattr(evaluate, "fixed_masks", holes_lost)
    out = tmp_path / "out"
    result = run(data, out, "--masks", "centre", "--methods", "telea", "ns")
    assert result.returncode == 0, result.stderr
    assert "1 of 2 damaged paintings lost every hole pixel" in result.stderr
    with open(out / "per_image.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["psnr"] for r in rows if r["image"] == "1"} == {""}
    assert all(float(r["psnr"]) < 100 for r in rows if r["image"] == "0")
    texts = [result.stdout, *((out / n).read_text() for n in ("results.csv", "per_image.csv",
                                                              "differences.csv"))]
    assert not any("nan" in text.lower() for text in texts)

    keep["paintings"] = 0
    result = run(data, out, "--masks", "centre", "--methods", "telea", "ns")
    assert result.returncode == 0, result.stderr
    assert "| telea | centre | n/a | n/a | n/a | n/a |" in result.stdout
    assert "nan" not in result.stdout.lower() and "nan" not in (out / "results.csv").read_text()
    # nothing to chart or compare: those files are absent (and the earlier ones retired)
    assert sorted(json.loads((out / evaluate.RECORD).read_text())["sha256"]) == [
        "examples.png", "per_image.csv", "results.csv"]
    assert record_holds(out)


# -- every bad argument: one line ----------------------------------------------------------------

def test_every_bad_argument_is_one_line(data, tmp_path):
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.keras").write_text("not a model")
    write_paintings(tmp_path / "tiny", 1, size=(8, 8))
    cases = [(["--full-size", "--data", tmp_path / "tiny"], "no painting to evaluate"),
             (["--full-size", "--max-side", "1"], "from 32 to"),
             (["--max-side", "nan"], "is not a side in pixels"),
             (["--seeds", "-1"], "must be at least 0"),
             (["--seeds", "x"], "is not a number"),
             (["--limit", "-1"], "must be above 0"),
             (["--image-size", "8x8"], "multiples of 32"),
             (["--image-size", "abc"], "must look like"),
             (["--masks", "nope"], "invalid choice"),
             (["--methods", "nope"], "invalid choice"),
             (["--data", tmp_path / "missing"], "does not exist"),
             (["--data", tmp_path / "a_file"], "does not exist"),
             (["--data", tmp_path / "empty"], "no painting to evaluate"),
             (["--out", tmp_path / "a_file"], "is a file"),
             (["--out", tmp_path / "a_file" / "out"], "cannot write"),
             (["--models", tmp_path / "missing.keras"], "does not exist"),
             (["--models", tmp_path / "junk.keras"], "not a Keras model")]
    for args, message in cases:
        args = [str(a) for a in args]
        given = {"--data": data, "--out": tmp_path / "out"}
        base = [x for option, value in given.items() if option not in args
                for x in (option, value)]
        result = run_script("evaluate.py", *base, *QUICK, "--masks", "centre", *args)
        assert message in error_line(result), (args, result.stderr)
        assert "evaluating" not in result.stderr, args  # stopped before any work
        if str(tmp_path / "tiny") in args:  # says which painting it skipped, and why
            assert "8 x 8 px at --full-size, too small" in result.stderr


def test_a_tiny_painting_among_others_is_skipped_with_a_warning(data, tmp_path):
    write_paintings(data / "small", 1, size=(8, 8))
    out = tmp_path / "out"
    result = run(data, out, "--full-size", "--masks", "holes", "centre", "--seeds", "0", "1")
    assert result.returncode == 0, result.stderr
    assert "small/painting_00.png: 8 x 8 px at --full-size, too small" in result.stderr
    assert result.stdout.startswith("2 images from")
    assert len(json.loads((out / evaluate.RECORD).read_text())["paintings"]) == 2


def test_the_same_method_kind_or_seed_twice_counts_once(data, tmp_path):
    result = run(data, tmp_path / "out", "--masks", "centre", "centre", "--seeds", "0", "0",
                 "--methods", "telea", "telea")
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "out" / "per_image.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 2  # 2 paintings, once each
    assert os.path.isfile(tmp_path / "out" / "results.csv")
