"""The first run a new user makes: ./run.sh's commands, and demo.py restoring the embedded
damaged painting with the defaults into its four files."""
import hashlib
import json
import subprocess

import pytest

from conftest import ROOT, run_script


@pytest.mark.slow  # starts the demo's own process
def test_demo_restores_the_embedded_painting_and_says_where_the_files_are(tmp_path):
    """One run, in a fresh process as a user's: the painting is made here first, as a first
    run makes it, so that the run takes the branch of a later run (it reuses the painting); a
    second restore into the same folder replacing its own files is
    test_pipeline.py::test_the_default_fill_is_deterministic_and_a_rerun_replaces_its_own_set."""
    from samples import first_run
    from detection.detect import true_damage
    from utils.images import read_image
    share = first_run.make_painting(tmp_path / "demo" / "iudea_damaged.png")
    # the bundled mask is the truth: every pixel the losses changed, and no other
    changed = true_damage(read_image(first_run.SAMPLE),
                          read_image(tmp_path / "demo" / "iudea_damaged.png"))
    truth = read_image(first_run.TRUTH)[..., 0] > 0.5
    assert (changed == truth).all() and 0.04 < share < 0.1
    result = run_script("demo.py", "--out", tmp_path / "demo", fresh=True)
    assert result.returncode == 0, result.stderr
    assert "made by an earlier run" in result.stdout
    restored = tmp_path / "demo" / "restored"
    names = sorted(p.name for p in restored.iterdir())
    assert names == ["iudea_damaged_figure.jpg", "iudea_damaged_mask.png",
                     "iudea_damaged_record.json", "iudea_damaged_restored.png"]
    for name in names:
        assert str(restored / name) in result.stdout
    assert "./run.sh app" in result.stdout and "./run.sh train" in result.stdout
    found, marked, far = first_run.scores(restored / "iudea_damaged_mask.png")
    assert f"found {found:.0%} of the true losses" in result.stdout
    assert found >= 0.7 and far <= 0.003  # the bar for the first run's defaults
    record = json.loads((restored / "iudea_damaged_record.json").read_text())
    assert record["method"] == "auto" and record["mask"]["source"] == "detected"
    detector = ROOT / "pretrained" / "detector.keras"  # the default detection, auto
    assert record["mask"]["detector"]["method"] == "auto"
    assert record["mask"]["detector"]["model"] == {
        "path": str(detector), "sha256": hashlib.sha256(detector.read_bytes()).hexdigest()}
    assert 0.01 < record["masked_fraction"] < 0.2


def test_run_sh_knows_its_commands_and_refuses_others():
    usage = subprocess.run(["bash", str(ROOT / "run.sh"), "--help"], capture_output=True,
                           text=True)
    assert usage.returncode == 0
    for command in ("--setup", "app", "train"):
        assert command in usage.stdout
    wrong = subprocess.run(["bash", str(ROOT / "run.sh"), "--data"], capture_output=True,
                           text=True)
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: unknown command --data")
