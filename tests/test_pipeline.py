"""One restoration pipeline (restoration/pipeline.py) behind restore.py, pixel_diff.py and the
workbench: the same painting and mask give the same files through all three, a mask is judged
the same way by each, and a detector is one registry entry."""
import io
import json

import numpy as np
import pytest
from PIL import Image

from conftest import error_line, run_script, textured_painting, with_losses

pytest.importorskip("flask")


def _painting_and_mask(folder, seed=0):
    """A generated painting with pale losses, and the true mask of them (white = loss)."""
    rng = np.random.default_rng(seed)
    damaged, mask = with_losses(rng, textured_painting(rng, 120, 180), count=3, radius=(6, 12))
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(damaged * 255).astype(np.uint8)).save(folder / "p.png")
    Image.fromarray((mask > 0).astype(np.uint8) * 255).save(folder / "m.png")
    return folder / "p.png", folder / "m.png"


def _client(workbench):
    from helpers import workbench_client
    return workbench_client(workbench)


def _workbench(folder, out, mask, method, invert=False, confirmed=False, warn_share=0.1):
    """Open folder/p.png in a workbench (app.py --warn-share warn_share), load the mask file,
    restore with method and save: (the status of the restore's request and its JSON, the
    client)."""
    from detection.detect import Detector
    from workbench.server import Workbench
    client = _client(Workbench(folder, out, detector=Detector("white"), warn_share=warn_share))
    painting = client.post("/api/open", json={"name": "p.png"}).json["id"]
    loaded = client.post(f"/api/{painting}/mask", data={
        "file": (io.BytesIO(mask.read_bytes()), mask.name), "invert": "1" if invert else "0"},
        content_type="multipart/form-data")
    if loaded.status_code != 200:
        return loaded.status_code, loaded.json, client
    answer = client.post(f"/api/{painting}/restore", data={
        "method": method, **({"confirmed": "1"} if confirmed else {})})
    if answer.status_code != 200:
        return answer.status_code, answer.json, client
    while (job := client.get(f"/api/{painting}/status").json)["state"] == "running":
        pass
    assert job["state"] == "done", job
    saved = client.post(f"/api/{painting}/save", json={"format": "png"})
    return saved.status_code, saved.json, client


def _comparable(record):
    """A record without what differs from tool to tool and run to run: the times, the tool,
    where the outputs and the mask file lay."""
    record = {k: v for k, v in record.items() if k not in ("seconds", "tool", "outputs")}
    record["mask"] = {k: v for k, v in record["mask"].items() if k != "path"}
    return record


@pytest.mark.parametrize("method", ["telea", pytest.param("auto", marks=pytest.mark.slow)])
def test_the_three_front_ends_write_the_same_files(tmp_path, method):
    painting, mask = _painting_and_mask(tmp_path / "in")
    outs = {name: tmp_path / name for name in ("restore", "pixel_diff", "workbench")}
    assert run_script("restore.py", painting, "--mask", mask, "--method", method, "-o",
                      outs["restore"]).returncode == 0
    assert run_script("pixel_diff.py", painting, "--mask", mask, "--method", method, "-o",
                      outs["pixel_diff"] / "p_restored.png").returncode == 0
    status, answer, _ = _workbench(painting.parent, outs["workbench"], mask, method)
    assert status == 200, answer
    files = {name: {kind: (out / f"p_{kind}.png").read_bytes() for kind in ("restored", "mask")}
             for name, out in outs.items()}
    assert files["restore"] == files["pixel_diff"] == files["workbench"]
    truth = np.asarray(Image.open(mask)) > 0
    assert np.array_equal(np.asarray(Image.open(outs["restore"] / "p_mask.png")) > 0, truth)
    records = {name: json.loads((out / "p_record.json").read_text())
               for name, out in outs.items()}
    assert records["restore"]["mask"]["source"] == "file"
    assert _comparable(records["restore"]) == _comparable(records["pixel_diff"]) == \
        _comparable(records["workbench"])
    assert records["restore"]["settings"]["seed"] == 0


def test_every_front_end_judges_a_mask_the_same_way(tmp_path):
    """Empty: nothing written, one line that says what to try; the painting itself: refused;
    drawn black on white (over half the painting): refused with --mask-invert and
    --allow-large-mask named, and read right with --mask-invert (the workbench's "losses
    black"); over --warn-share: a warning (a confirmation in the workbench)."""
    painting, mask = _painting_and_mask(tmp_path / "in")
    empty = tmp_path / "in" / "empty.png"
    Image.fromarray(np.zeros((120, 180), np.uint8)).save(empty)
    black = tmp_path / "in" / "black.png"
    truth = np.asarray(Image.open(mask))
    Image.fromarray(255 - truth).save(black)

    def cli(script, out, *options):
        target = out / "p_restored.png" if script == "pixel_diff.py" else out
        return run_script(script, painting, "--method", "telea", "-o", target, *options)

    for script in ("restore.py", "pixel_diff.py"):
        out = tmp_path / script
        result = cli(script, out, "--mask", empty)
        assert result.returncode == 0 and "no loss found, nothing written" in result.stdout
        assert not out.exists() or not any(out.iterdir()), script
        for itself in (painting, tmp_path / "in" / "copy.png"):
            itself.write_bytes(painting.read_bytes()) if itself != painting else None
            assert "the painting" in error_line(cli(script, out, "--mask", itself)), script
        line = error_line(cli(script, out, "--mask", black))
        assert "--mask-invert" in line and "--allow-large-mask" in line, script
        assert not out.exists() or not any(out.iterdir()), script
        result = cli(script, out, "--mask", black, "--mask-invert", "--warn-share", "0.001")
        assert result.returncode == 0 and "warning:" in result.stderr, script
        written = np.asarray(Image.open(out / "p_mask.png")) > 0
        assert np.array_equal(written, truth > 0), script

    out = tmp_path / "workbench"
    status, answer, _ = _workbench(painting.parent, out, empty, "telea")
    assert status == 400 and "no loss found" in answer["error"]
    status, answer, _ = _workbench(painting.parent, out, painting, "telea")
    assert status == 400 and "painting" in answer["error"]
    status, answer, _ = _workbench(painting.parent, out, black, "telea")
    assert status == 409 and "fill it anyway?" in answer["confirm"]
    assert not out.exists() or not any(out.glob("*.png"))
    status, answer, _ = _workbench(painting.parent, out, black, "telea", invert=True)
    assert status == 200, answer
    assert np.array_equal(np.asarray(Image.open(out / "p_mask.png")) > 0, truth > 0)
    # a wide selection, confirmed on the page, is filled; unconfirmed, it is asked about
    wide = tmp_path / "in" / "wide.png"
    half = np.zeros((120, 180), np.uint8)
    half[:, :50] = 255
    Image.fromarray(half).save(wide)
    status, answer, _ = _workbench(painting.parent, tmp_path / "w2", wide, "telea")
    assert status == 409 and "27.8%" in answer["confirm"]
    status, answer, _ = _workbench(painting.parent, tmp_path / "w2", wide, "telea",
                                   confirmed=True)
    assert status == 200, answer
    # the share is the user's: at --warn-share 0.3 the same selection is filled unasked
    status, answer, _ = _workbench(painting.parent, tmp_path / "w3", wide, "telea",
                                   warn_share=0.3)
    assert status == 200, answer


def test_a_batch_counts_paintings_with_nothing_found_and_goes_on(tmp_path):
    folder = tmp_path / "scans"
    painting, _ = _painting_and_mask(folder)
    (folder / "m.png").unlink()
    white = textured_painting(np.random.default_rng(1), 60, 80)
    white[10:30, 10:40] = 1.0  # pure white marks: what --detect white finds
    Image.fromarray(np.round(white * 255).astype(np.uint8)).save(folder / "w.png")
    result = run_script("restore.py", folder, "--detect", "white", "--method", "telea",
                        "--jobs", "1", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "p.png: no loss found, nothing written" in result.stdout
    assert "1 of 2 paintings had no loss found" in result.stdout
    assert (tmp_path / "out" / "w_restored.png").exists()
    assert not (tmp_path / "out" / "p_restored.png").exists()


def test_a_new_detector_is_one_entry(tmp_path, monkeypatch):
    """A method added to the registry alone is offered by restore.py and used by every tool."""
    from detection import registry
    from detection.detect import Detector

    def dark(detector, image):
        return (np.asarray(image)[..., :3].max(axis=-1) < 40).astype(np.uint8)
    monkeypatch.setitem(registry.DETECTIONS, "dark",
                        registry.Detection("dark", "very dark pixels, for this test", dark))
    pixels = np.full((60, 80, 3), 200, np.uint8)
    pixels[20:30, 30:50] = 10
    assert np.array_equal(Detector("dark")(pixels), (pixels[..., 0] < 40).astype(np.uint8))
    Image.fromarray(pixels).save(tmp_path / "p.png")
    result = run_script("restore.py", tmp_path / "p.png", "--detect", "dark", "--method",
                        "telea", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "out" / "p_record.json").read_text())
    assert record["mask"]["detector"]["method"] == "dark"
    assert record["masked_fraction"] == pytest.approx(200 / 4800)


def test_the_default_fill_is_deterministic_and_a_rerun_replaces_its_own_set(tmp_path):
    painting, mask = _painting_and_mask(tmp_path / "in", seed=3)
    written = []
    for _ in range(2):  # the second run into the same folder replaces its own files
        result = run_script("restore.py", painting, "--mask", mask, "--model", "none", "-o",
                            tmp_path / "out")
        assert result.returncode == 0, result.stderr
        written.append((tmp_path / "out" / "p_restored.png").read_bytes())
    assert written[0] == written[1]
