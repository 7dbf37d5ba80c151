"""Never follow what someone else planted, and recover before judging: the classes of issue 31
that live in utils/files.py and the set writer, for every tool that writes a set (restore.py,
pixel_diff.py, the workbench through the same pipeline)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, damaged_painting, error_line, run_script
from scans.saving import output_set
from utils.files import (PARTIAL, remove_stale_partials, sha256, writable_folder, write_text,
                         writing)

# a kill at the k-th rename of a set (0: after the journal, before any rename), in a process
# that then dies as kill -9 would leave it
DIE_AT_RENAME = """
real, count = os.replace, [0]
def replace(source, target):
    if Path(source).name.startswith(".partial-") and not Path(target).name.startswith("."):
        if count[0] == {k}:
            os._exit(9)
        count[0] += 1
    real(source, target)
os.replace = replace
"""
KILLER = """
import os, runpy, sys
from pathlib import Path
sys.path.insert(0, {root!r})
""" + DIE_AT_RENAME + """
sys.argv = {argv!r}
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _painting(folder):
    folder.mkdir(parents=True, exist_ok=True)
    damaged = damaged_painting(seed=3)[0]
    damaged[20:40, 30:70] = 1.0  # a white loss: what --detect white finds
    path = folder / "p.png"
    Image.fromarray(np.round(damaged * 255).astype(np.uint8)).save(path)
    return path


def _whole(outputs):
    """Every file of the set is the one its record names (its sha256)."""
    record = json.loads(outputs["record"].read_text())
    return all(sha256(outputs[kind]) == digest
               for kind, digest in record["output_sha256"].items())


@pytest.mark.slow
@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("tool", ["restore.py", "pixel_diff.py"])
def test_a_kill_between_any_two_renames_is_recovered_by_the_next_run_from_anywhere(
        tmp_path, monkeypatch, tool, k):
    painting = _painting(tmp_path / "in")
    out = tmp_path / "out"
    outputs = output_set(out / "p_restored.png")
    target = str(out / "p_restored.png") if tool == "pixel_diff.py" else str(out)
    options = ["--roi", "0,0,120,120"] if tool == "pixel_diff.py" else ["--detect", "white"]
    argv = [str(ROOT / tool), str(painting), "-o", target, *options]
    assert run_script(tool, *argv[1:], "--method", "telea").returncode == 0  # an earlier set
    killed = subprocess.run([sys.executable, "-c", KILLER.format(
        root=str(ROOT), k=k, argv=[*argv, "--method", "ns"])], capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    assert list(out.glob(PARTIAL + "*"))  # a journal, temporaries and a lock were left
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a re-run from another working directory
    again = run_script(tool, *argv[1:], "--method", "ns")
    assert again.returncode == 0, again.stderr
    assert _whole(outputs) and not list(out.glob(PARTIAL + "*"))


def test_a_planted_journal_moves_nothing_of_the_users(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("the user's notes")
    mask = tmp_path / "p_mask.png"
    mask.write_text("the user's own mask")
    dead = "fedcba9876543210"
    planted = tmp_path / f"{PARTIAL}{dead}-aaaa-notes.txt"
    planted.write_text("planted")
    for name, moves in {
            "onto a name that is not an output": [[planted, notes]],
            "a source outside the folder": [[tmp_path.parent / "x-p_mask.png", mask]],
            "a source of another token": [[tmp_path / f"{PARTIAL}0000000000000000-aa-p_mask.png",
                                           mask]],
            "a source made for another name": [[tmp_path / f"{PARTIAL}{dead}-aa-q_mask.png",
                                                mask]],
            "relative paths": [[f"{PARTIAL}{dead}-aa-p_mask.png", "p_mask.png"]]}.items():
        if name != "a source outside the folder":
            source = tmp_path / Path_name(moves[0][0])
            source.write_text("planted")
        journal = tmp_path / f"{PARTIAL}{dead}-bbbb-p.journal.json"
        journal.write_text(json.dumps({"token": dead,
                                       "moves": [[str(a), str(b)] for a, b in moves]}))
        from scans.saving import is_output_name
        remove_stale_partials(tmp_path, is_output_name)
        assert notes.read_text() == "the user's notes", name
        assert mask.read_text() == "the user's own mask", name
        assert not journal.exists(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "p_mask.png"]


def Path_name(path):
    return os.path.basename(str(path))


def test_planted_links_are_never_followed(tmp_path):
    """A link planted where an old write probe, a temporary or a lock was named: its target is
    never written or truncated; the links are removed as stale."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    links = [out / f"{PARTIAL}{os.getpid()}-write-test",
             out / f"{PARTIAL}fedcba9876543210-aaaa-p_restored.png",
             out / f"{PARTIAL}fedcba9876543210.lock"]
    for link in links:
        link.symlink_to(target)
    writable_folder(out)
    write_text(out / "a.txt", "written")
    with writing(out):
        pass
    remove_stale_partials(out)
    assert target.read_text() == "keep me"
    assert not any(os.path.lexists(link) for link in links)
    assert (out / "a.txt").read_text() == "written"
    # an output name that is a link is replaced as a link, never written through
    (out / "b.txt").symlink_to(target)
    write_text(out / "b.txt", "new")
    assert target.read_text() == "keep me" and not (out / "b.txt").is_symlink()


def test_a_users_file_that_appears_during_the_run_is_kept(tmp_path, monkeypatch):
    """Ownership is proven again at the commit, under the folder's lock: a file of the user's
    put at an output's name after the run's first check is kept, and that painting is
    refused with its line."""
    import restoration.pipeline as pipeline
    painting = _painting(tmp_path / "in")
    out = tmp_path / "out"
    real = pipeline.write_restoration

    def meanwhile(outputs, *args, **kwargs):
        outputs["mask"].write_text("the user's mask, put there during the run")
        return real(outputs, *args, **kwargs)
    monkeypatch.setattr(pipeline, "write_restoration", meanwhile)
    line = error_line(run_script("restore.py", painting, "-o", out, "--detect", "white",
                                 "--method", "telea"))
    assert "p_mask.png" in line and "--overwrite" in line
    assert (out / "p_mask.png").read_text() == "the user's mask, put there during the run"
    assert not (out / "p_restored.png").exists() and not list(out.glob(PARTIAL + "*"))


def test_a_detector_that_returns_nan_is_one_line_not_a_silent_empty_mask(tmp_path,
                                                                          monkeypatch):
    from detection.detect import Detector
    monkeypatch.setattr(Detector, "network", lambda self: (
        lambda x, training=False: np.full((*np.shape(x)[:3], 1), np.nan, np.float32)))
    painting = _painting(tmp_path / "in")
    line = error_line(run_script("restore.py", painting, "-o", tmp_path / "out", "--method",
                                 "telea"))
    assert "the damage detector returned NaN" in line
    assert not (tmp_path / "out" / "p_restored.png").exists()


def test_a_name_with_control_characters_forges_no_line(tmp_path):
    """A painting named with a newline and an escape: every line the tools print shows them
    escaped, so that no `error:` line or terminal sequence can be forged."""
    painting = _painting(tmp_path / "in")
    named = painting.with_name("p\nerror: all your files were deleted\x1b[2J.png")
    painting.rename(named)
    for script, target in (("restore.py", tmp_path / "out"),
                           ("pixel_diff.py", tmp_path / "pd" / "x_restored.png")):
        result = run_script(script, named, "-o", target, "--method", "telea",
                            *(["--detect", "white"] if script == "restore.py" else
                              ["--roi", "0,0,100,100"]))
        assert result.returncode == 0, result.stderr
        lines = (result.stdout + result.stderr).splitlines()
        assert not any(line.startswith("error:") for line in lines), lines
        assert "\x1b" not in result.stdout + result.stderr
        assert "\\nerror: all your files" in result.stdout + result.stderr
    missing = named.with_name("gone\nerror: forged.png")
    result = run_script("restore.py", missing, "-o", tmp_path / "o2")
    assert len(result.stderr.strip().splitlines()) == 1 and "gone\\nerror" in result.stderr


WORKBENCH_SAVE = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from detection.detect import Detector
from workbench.server import Workbench, read_strokes
workbench = Workbench({folder!r}, {out!r}, detector=Detector("white"))
painting = workbench.open(Path({folder!r}) / "p.png", "p.png")
strokes = read_strokes('[{{"tool": "brush", "width": 6, "points": [[20, 20], [60, 20]]}}]')
workbench.restore(painting, "ns", [], strokes, confirmed=True)
while painting.job["state"] == "running":
    time.sleep(0.05)
""" + DIE_AT_RENAME + """
workbench.save(painting, "png")
"""


@pytest.mark.slow
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_a_workbench_save_killed_between_renames_is_recovered_by_the_next_save(tmp_path, k):
    from detection.detect import Detector
    from workbench.server import Workbench, read_strokes
    painting = _painting(tmp_path / "in")
    out = tmp_path / "out"
    killed = subprocess.run([sys.executable, "-c", WORKBENCH_SAVE.format(
        root=str(ROOT), folder=str(painting.parent), out=str(out), k=k)],
        capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    assert list(out.glob(PARTIAL + "*"))
    workbench = Workbench(painting.parent, out, detector=Detector("white"))
    opened = workbench.open(painting, "p.png")
    workbench.restore(opened, "telea", [], read_strokes(
        '[{"tool": "brush", "width": 6, "points": [[20, 20], [60, 20]]}]'), confirmed=True)
    while opened.job["state"] == "running":
        pass
    assert opened.job["state"] == "done", opened.job
    saved = workbench.save(opened, "png")
    assert saved["restored"].name == "p_restored.png"  # its own set, recovered, replaced
    assert _whole(output_set(out / "p_restored.png")) and not list(out.glob(PARTIAL + "*"))
    workbench.close()
