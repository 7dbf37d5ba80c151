"""Damage detection: synthetic paint loss, the detector network and its train script, the
per-painting colour model, clicks, growing and shrinking, and the scores the bench reports."""
import json

import cv2
import keras
import numpy as np
import pytest

from conftest import ROOT, run_script, textured_painting, with_losses
from detection.detect import DEFAULT_DETECTOR, Detector, detection_scores
from detection.maps import analysis_copy, full_size, innermost
from models.detector import build_damage_detector
from training.paint_loss import SHAPES, PaintLoss
from utils.errors import UserError


def test_paint_loss_damages_with_pale_ground_and_says_where():
    rng = np.random.default_rng(0)
    image = textured_painting(rng, 96, 128)
    lighter = 0
    for seed in range(12):
        damaged, mask = PaintLoss(clean=0.0)(image, np.random.default_rng(seed))
        assert damaged.shape == image.shape and damaged.dtype == np.float32
        assert 0 <= damaged.min() and damaged.max() <= 1
        assert set(np.unique(mask)) <= {0.0, 1.0} and mask.any()
        region = mask > 0
        lighter += damaged[region].mean() > image[region].mean()
    assert lighter >= 9  # the ground is lighter than the paint in most losses, not all
    again = PaintLoss(clean=0.0)(image, np.random.default_rng(3))
    assert np.array_equal(again[1], PaintLoss(clean=0.0)(image, np.random.default_rng(3))[1])
    _, none = PaintLoss(clean=1.0)(image, rng)
    assert not none.any()  # a clean example: only the photometric changes
    # decoys: pale paint painted on and left unmarked (hard negatives), paler than the paint
    loss = PaintLoss(clean=1.0, decoys=1.0)
    paler = 0
    for seed in range(6):
        assert not loss(image, np.random.default_rng(seed))[1].any()
        painted = loss._decoy(image, np.random.default_rng(seed))
        moved = np.abs(painted - image).max(-1) > 0.02
        assert 0.002 < moved.mean() < 0.9  # a part of the painting
        paler += painted[moved].mean() > image[moved].mean()
    assert paler >= 4


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_loss_shape_marks_part_of_the_image(shape):
    region = SHAPES[shape]((96, 128), np.random.default_rng(1))
    assert region.shape == (96, 128) and 0 < region.mean() < 0.6


def test_detector_network_at_the_working_size_and_any_size(tmp_path):
    model = build_damage_detector()
    out = model.predict(np.zeros((1, 256, 384, 3), np.float32), verbose=0)
    assert out.shape == (1, 256, 384, 1) and 0 <= out.min() and out.max() <= 1
    path = tmp_path / "detector.keras"
    model.save(path)
    again = keras.models.load_model(path, safe_mode=True, compile=False)
    image = np.random.default_rng(0).uniform(0, 1, (1, 64, 96, 3)).astype(np.float32)
    assert np.allclose(again.predict(image, verbose=0), model.predict(image, verbose=0))


@pytest.mark.slow
def test_train_detector_end_to_end_and_resume(data_dir, tmp_path):
    runs = tmp_path / "runs"
    # uncompiled: the detector's XLA step is the Context Encoder's kind, tried in its own tests
    tiny = ["--image-size", "64x96", "--steps-per-epoch", "2", "--batch-size", "2", "--no-jit"]
    result = run_script("train_detector.py", "--data", data_dir, "--epochs", "1", "--name",
                        "det", "--runs-dir", runs, *tiny)
    assert result.returncode == 0, result.stderr
    run = runs / "det"
    assert json.loads((run / "config.json").read_text())["image_size"] == [64, 96]
    assert (run / "samples" / "epoch_0001.png").stat().st_size > 0
    found = Detector("learned", model=str(run / "model.keras"))(
        textured_painting(np.random.default_rng(0), 70, 90))
    assert found.shape == (70, 90) and found.dtype == np.uint8  # any size, padded inside
    result = run_script("train_detector.py", "--name", "det", "--runs-dir", runs, "--resume",
                        "--epochs", "2")
    assert result.returncode == 0 and "Epoch 2/2" in result.stdout, result.stderr
    assert "--mask" not in run_script("train_detector.py", "--help").stdout
    # fine-tuning: a new run from the first one's weights; another architecture is refused
    result = run_script("train_detector.py", "--data", data_dir, "--epochs", "1", "--name", "ft",
                        "--runs-dir", runs, "--init", run / "model.keras", "--hard-negatives",
                        "0.5", *tiny)
    assert result.returncode == 0 and "starting from the weights" in result.stdout, result.stderr
    assert "as hard negatives" in result.stdout and \
        json.loads((runs / "ft" / "config.json").read_text())["hard_negatives"] == 0.5
    assert (runs / "ft" / "false_alarms.npy").is_file()  # kept: a resume trains on the same
    result = run_script("train_detector.py", "--data", data_dir, "--hard-negatives", "0.2",
                        "--runs-dir", runs, *tiny)
    assert result.returncode == 2 and "--hard-negatives needs --init" in result.stderr
    result = run_script("train_detector.py", "--data", data_dir, "--epochs", "1", "--name",
                        "wrong", "--runs-dir", runs, "--init",
                        ROOT / "pretrained" / "context_encoder.keras", *tiny)
    assert result.returncode == 2 and "needs the same architecture" in result.stderr


def test_hard_negatives_are_clean_crops_around_what_the_detector_marks_on_clean_paint():
    """false_alarms finds where a detector marks clean paintings; a hard fraction of the
    training crops is cut around those places and left unmarked."""
    from training.data import detection_dataset, false_alarms

    class Marks:  # a detector that marks every pure-red pixel
        def predict(self, batch, verbose=0):
            return (batch[..., :1] > 0.9) & (batch[..., 1:2] < 0.1)

    rng = np.random.default_rng(4)
    images = np.stack([textured_painting(rng, 128, 192) * 0.5 for _ in range(3)])
    images[1, 90:100, 150:160] = (1.0, 0.0, 0.0)  # a red banner, only on painting 1
    alarms = false_alarms(Marks(), images, per_image=5)
    assert len(alarms) == 5 and (alarms[:, 0] == 1).all()
    assert ((alarms[:, 1] >= 90) & (alarms[:, 1] < 100) & (alarms[:, 2] >= 150)).all()
    data = detection_dataset(images, 6, (64, 96), clean=0.0, hard=1.0, alarms=alarms)
    paintings, masks = next(iter(data))
    red = (paintings[..., 0] > 0.9) & (paintings[..., 1] < 0.1)
    assert not np.asarray(masks).any() and np.asarray(red).any(axis=(1, 2)).all()
    paintings, masks = next(iter(detection_dataset(images, 6, (64, 96), clean=0.0)))
    assert np.asarray(masks).any()  # without: every crop has its synthetic losses
    # two input pipelines: painting 1 is the second's first, and its alarms go with it
    second = detection_dataset(images, 4, (64, 96), shard=(1, 2), clean=0.0, hard=1.0,
                               alarms=alarms)
    paintings, masks = next(iter(second))
    red = (paintings[..., 0] > 0.9) & (paintings[..., 1] < 0.1)
    assert not np.asarray(masks).any() and np.asarray(red).any(axis=(1, 2)).all()
    first = detection_dataset(images, 4, (64, 96), shard=(0, 2), clean=0.0, hard=1.0,
                              alarms=alarms)
    assert np.asarray(next(iter(first))[1]).any()  # no alarm of its paintings: no hard crop


@pytest.mark.skipif(not DEFAULT_DETECTOR.exists(), reason="pretrained/detector.keras is absent")
def test_shipped_detector_finds_pale_losses_and_leaves_clean_paint():
    rng = np.random.default_rng(5)
    image = textured_painting(rng)
    damaged, truth = with_losses(rng, image)
    detector = Detector()
    assert detection_scores(detector(damaged), truth, tolerance=3)["tol_f1"] > 0.7
    assert detector(image).mean() < 0.01


def test_a_click_selects_the_loss_under_it_and_similar_every_loss_like_it():
    rng = np.random.default_rng(2)
    damaged, truth = with_losses(rng, textured_painting(rng), count=5)
    count, labels = cv2.connectedComponents(truth.view(np.uint8), connectivity=8)
    clicked = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1  # the largest loss
    x, y = innermost(clicked)
    found = Detector(points=((x, y),))(damaged) > 0
    scores = detection_scores(found, clicked, tolerance=3)
    assert scores["tol_f1"] > 0.9  # the clicked loss, whole, with a margin
    assert not (found & truth & ~clicked).any()  # and none of the others
    similar = Detector(points=((x, y),), similar=True)(damaged)
    assert detection_scores(similar, truth, tolerance=3)["tol_f1"] > 0.9  # every loss like it
    # a shift-click on the clicked loss keeps it out
    assert not Detector(points=((x, y),), points_out=((x, y),))(damaged).any()
    with pytest.raises(UserError, match="outside"):
        Detector(points=((400, 10),))(damaged)


def test_a_click_does_not_spread_into_paint_of_its_colour_beyond_an_edge():
    """A pale pink loss beside a pink face of nearly its colour, with an edge between them: the
    click takes the loss, not the face (the manuscripts' runaway)."""
    rng = np.random.default_rng(3)
    image = textured_painting(rng, 160, 240)
    face = np.zeros(image.shape[:2], np.uint8)
    cv2.ellipse(face, (150, 80), (50, 40), 0, 0, 360, 1, -1)
    image[face > 0] = np.array([0.80, 0.58, 0.50]) + rng.normal(0, 0.01, (int(face.sum()), 3))
    loss = np.zeros(image.shape[:2], np.uint8)
    cv2.circle(loss, (60, 80), 22, 1, -1)
    image[loss > 0] = np.array([0.86, 0.62, 0.52]) + rng.normal(0, 0.01, (int(loss.sum()), 3))
    cv2.line(image, (96, 0), (96, 159), (0.2, 0.15, 0.1), 3)  # the painted edge between them
    found = Detector(points=((60, 80),))(np.clip(image, 0, 1)) > 0
    assert detection_scores(found, loss > 0, tolerance=3)["tol_precision"] > 0.95
    assert not (found & (face > 0)).any()


def test_a_click_on_a_flake_in_a_pale_sky_takes_the_flake_not_the_sky():
    """A flake of gesso in a pale sky within the click's colour tolerance of it, with no edge
    between them but the flake's own: the click takes the flake, not the sky it would flood."""
    rng = np.random.default_rng(24)
    height, width = 200, 300
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    sky = (1 - ramp) * np.array([83.0, -1.0, 3.0]) + ramp * np.array([88.0, -2.0, 6.0])
    lab = np.repeat(sky, height, axis=0).astype(np.float32)
    flake = np.zeros((height, width), np.uint8)
    cv2.fillPoly(flake, [np.array([[130, 80], [168, 86], [176, 118], [142, 126], [124, 104]])], 1)
    lab[flake > 0] = (86.0, 2.5, 10.0)  # samples/losses.py's gesso, with its grain
    lab[..., 0] += rng.normal(0, 1.0, (height, width)).astype(np.float32)
    image = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)
    found = Detector(points=((150, 104),))(image) > 0
    scores = detection_scores(found, flake > 0, tolerance=3)
    assert scores["tol_precision"] > 0.9 and scores["recall"] > 0.9
    assert found.sum() < 2 * flake.sum()


@pytest.mark.skipif(not DEFAULT_DETECTOR.exists(), reason="pretrained/detector.keras is absent")
def test_the_colour_method_adds_every_loss_like_the_surest_ones():
    rng = np.random.default_rng(4)
    damaged, truth = with_losses(rng, textured_painting(rng), count=6)
    learned, colour = Detector("learned")(damaged) > 0, Detector("colour")(damaged) > 0
    assert not (learned & ~colour).any()  # the network's mask, and more
    assert detection_scores(colour, truth, tolerance=3)["tol_f1"] > 0.8
    # auto, the default: as colour on a painting this damaged, one probability map whose
    # threshold (the slider's) moves the network's and the classifier's losses together
    auto = Detector()
    probability = auto.probability(damaged)
    found = auto.from_probability(probability, damaged.shape[:2], image=damaged) > 0
    assert np.array_equal(found, auto(damaged) > 0)
    assert detection_scores(found, truth, tolerance=3)["tol_f1"] > 0.8
    assert not (learned & ~found).any()
    fewer = auto.from_probability(probability, damaged.shape[:2], 0.99, damaged) > 0
    more = auto.from_probability(probability, damaged.shape[:2], 0.5, damaged) > 0
    assert fewer.sum() < found.sum() < more.sum()


@pytest.mark.skipif(not DEFAULT_DETECTOR.exists(), reason="pretrained/detector.keras is absent")
def test_auto_leaves_a_clean_painting_to_the_network_and_odd_shapes_get_an_answer():
    """Where the network is sure of little (a clean painting), auto is the network alone: the
    classifier is never taught its few false alarms. A painting of 1 x 1 or 2 x 5,000 pixels
    gets a mask of its own shape."""
    from detection.registry import BOOTSTRAP_SHARE, network_probability
    rng = np.random.default_rng(8)
    clean_painting = textured_painting(rng)
    auto, learned = Detector(), Detector("learned")
    sure = (network_probability(auto, clean_painting) > 0.7).mean()
    assert sure < BOOTSTRAP_SHARE
    assert np.array_equal(auto(clean_painting), learned(clean_painting))
    for shape in ((1, 1, 3), (2, 5000, 3)):
        odd = rng.random(shape).astype(np.float32)
        assert auto(odd).shape == shape[:2]


def test_large_scans_are_analysed_shrunk_and_the_mask_returns_full_size():
    rng = np.random.default_rng(6)
    small, truth = with_losses(rng, textured_painting(rng))
    large = cv2.resize((small * 65535).astype(np.uint16), (1800, 1200),
                       interpolation=cv2.INTER_LINEAR)  # a 16-bit scan, 6x the analysed side
    copy, scale = analysis_copy(large, side=300)
    assert copy.shape == (200, 300, 3) and copy.dtype == np.uint8 and scale == pytest.approx(1 / 6)
    found = full_size(truth, (1200, 1800))
    assert found.shape == (1200, 1800)
    assert found.mean() == pytest.approx(truth.mean(), rel=0.05)
    grown, shrunk = full_size(truth, (1200, 1800), 6), full_size(truth, (1200, 1800), -6)
    assert shrunk.sum() < found.sum() < grown.sum()
    assert not (shrunk & ~found).any() and not (found & ~grown).any()


def test_the_network_reads_a_large_copy_in_tiles_with_one_result_whatever_the_tile():
    """A copy larger than a tile is read in tiles with context around each: the probability is
    the whole copy's, whatever the tile size, and the model's own (it runs as one graph);
    a bad tile is a ValueError."""
    from detection.maps import predict_damage
    model = build_damage_detector(width=4, max_channels=8)
    rng = np.random.default_rng(11)
    image = (with_losses(rng, textured_painting(rng, 230, 330))[0] * 255).astype(np.uint8)
    whole = predict_damage(model, image, tile=1024)
    eager = np.array(model(image[None, :224, :320].astype(np.float32) / 255.0))[0, ..., 0]
    assert np.abs(predict_damage(model, image[:224, :320]) - eager).max() < 1e-5  # one graph
    for tile in (64, 96, 160):
        tiled = predict_damage(model, image, tile=tile, halo=160)
        assert tiled.shape == whole.shape and np.abs(tiled - whole).max() < 1e-4
    # too little context: the tiles' seams show (what the halo is for)
    assert np.abs(predict_damage(model, image, tile=64, halo=0) - whole).max() > 1e-3
    with pytest.raises(ValueError, match="multiples of 32"):
        predict_damage(model, image, tile=100)


@pytest.mark.skipif(not DEFAULT_DETECTOR.exists(), reason="pretrained/detector.keras is absent")
def test_flakes_of_a_large_painting_are_found_on_the_detail_copy():
    """Flakes 3-5 px wide (2% of a 1,500-px painting) vanish in the 512-px copy; the detail copy
    (the default) finds them, and marks as little of the clean painting as the coarse copy does."""
    rng = np.random.default_rng(12)
    image = cv2.resize(textured_painting(rng, 250, 375), (1500, 1000),
                       interpolation=cv2.INTER_CUBIC)
    truth = np.zeros((1000, 1500), np.uint8)
    for x, y, r in zip(rng.integers(20, 1480, 2500), rng.integers(20, 980, 2500),
                       rng.integers(1, 3, 2500)):
        cv2.circle(truth, (int(x), int(y)), int(r), 1, -1)
    damaged = image.copy()
    damaged[truth > 0] = (0.93, 0.9, 0.86)
    coarse = Detector("learned", detail_side=512)
    detail = Detector("learned")
    assert detail.detail_side >= 1500
    found = {d.detail_side: detection_scores(d(damaged), truth > 0, tolerance=1)
             for d in (coarse, detail)}
    assert found[detail.detail_side]["recall"] > found[512]["recall"] + 0.5
    assert found[detail.detail_side]["tol_f1"] > 0.8  # within the mask's 1-pixel margin
    assert detail(image).mean() < 0.01


def test_scores_with_a_boundary_tolerance():
    truth = np.zeros((20, 20), bool)
    truth[5:10, 5:10] = True
    found = np.roll(truth, 2, axis=1)  # a mask drawn 2 pixels off
    exact = detection_scores(found, truth)
    assert exact["f1"] == pytest.approx(0.6)  # 15 of 25 pixels overlap
    tolerant = detection_scores(found, truth, tolerance=3)
    assert tolerant["tol_f1"] == 1.0 and tolerant["f1"] == exact["f1"]
    assert detection_scores(found, truth, tolerance=1)["tol_f1"] < 1.0


def test_settings_are_checked():
    for kwargs, message in [({"method": "magic"}, "choose one of"),
                            ({"threshold": 1.5}, "between 0 and 1"),
                            ({"min_area": 0}, "at least 1"),
                            ({"detail_side": 16}, "at least 32 pixels"),
                            ({"detail_side": -1}, "at least 32 pixels")]:
        with pytest.raises(UserError, match=message):
            Detector(**kwargs)


def test_restore_with_clicks_grows_and_shrinks_and_records_it(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(2)
    damaged, truth = with_losses(rng, textured_painting(rng), count=5)
    painting = tmp_path / "page.png"
    Image.fromarray((damaged * 255).round().astype(np.uint8)).save(painting)
    inside = cv2.distanceTransform(truth.view(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(np.argmax(inside), inside.shape)
    marked = {}
    for grow in (-1, 0, 2):
        out = tmp_path / f"out{grow}"
        result = run_script("restore.py", painting, "-o", out, "--method", "telea",
                            "--point", f"{x},{y}", "--similar", "--grow", str(grow))
        assert result.returncode == 0, result.stderr
        mask = np.asarray(Image.open(out / "page_mask.png")) > 127
        marked[grow] = mask.sum()
        record = json.loads((out / "page_record.json").read_text())
        assert record["mask"]["detector"]["method"] == "clicks"
        assert record["mask"]["detector"]["points"] == [[int(x), int(y)]]
        assert record["mask"]["detector"]["grow"] == grow
        assert (out / "page_figure.jpg").stat().st_size > 0
    assert marked[-1] < marked[0] < marked[2]
    assert detection_scores(np.asarray(Image.open(tmp_path / "out0" / "page_mask.png")) > 127,
                            truth, tolerance=3)["tol_f1"] > 0.9


def test_a_painting_is_called_damaged_before_any_pixel_is_marked():
    """The image-level decision: with too small a share of sure losses nothing is marked, at
    any threshold; --min-share 0 marks regardless; the record says which share was asked."""
    probability = np.zeros((100, 150), np.float32)
    probability[10:14, 10:14] = 0.99  # 16 sure pixels: 0.1% of the copy, under the 0.5%
    probability[30:40, 30:40] = 0.8   # likely, not sure
    shape = (200, 300)
    assert Detector().min_share == 0.005
    assert not Detector().from_probability(probability, shape, 0.5).any()
    assert Detector(min_share=0.0).from_probability(probability, shape).sum() > 0
    probability[50:60, 50:60] = 0.96  # 116 sure pixels: 0.8%, a damaged painting
    assert Detector().from_probability(probability, shape).sum() > 0
    assert Detector().from_probability(probability, shape, 0.5).sum() > \
        Detector().from_probability(probability, shape).sum()  # the likely losses join
    with pytest.raises(UserError, match="--min-share"):
        Detector(min_share=1.5)
    assert Detector("learned").settings()["min_share"] == 0.005
    assert "specks" not in Detector("learned").settings()
    assert Detector(threshold=0.95).settings()["specks"]["contrast"] == pytest.approx(35.0)
    assert Detector(threshold=0.5).settings()["specks"]["contrast"] < 35.0


def test_a_loss_found_on_a_copy_keeps_only_the_rim_that_looks_like_it():
    """A mask found on a shrunk copy, enlarged, covers a rim of paint around each loss; its rim
    is decided at the painting's own resolution: the paint around a white flake is dropped, the
    flake kept whole, and a loss as dark as its paint (no contrast to decide by) kept as found."""
    from detection.maps import full_size, trim_rims
    rng = np.random.default_rng(3)
    painting = np.clip(0.35 + 0.05 * rng.standard_normal((600, 900, 3)), 0, 1).astype(np.float32)
    truth = np.zeros((600, 900), bool)
    for y, x in ((100, 150), (300, 450), (450, 700)):
        cv2.circle(truth.view(np.uint8), (x, y), 14, 1, -1)
    faint = np.zeros_like(truth)
    cv2.circle(faint.view(np.uint8), (200, 500), 14, 1, -1)
    painting[truth] = 0.97
    painting[faint] = 0.37  # a loss no colour tells from the paint
    found = cv2.resize((truth | faint).astype(np.uint8), (90, 60), interpolation=cv2.INTER_AREA)
    found = cv2.dilate(found, np.ones((3, 3), np.uint8)) > 0  # a copy's rim of one pixel
    enlarged = full_size(found, truth.shape)
    trimmed = trim_rims(enlarged.copy(), found, painting) > 0
    assert trimmed[truth].all()  # every pixel of the flakes kept
    rim = (enlarged > 0) & ~truth & ~faint
    assert rim.sum() > truth.sum()  # the copy's rim: more paint than loss
    near_faint = cv2.dilate(faint.view(np.uint8), np.ones((61, 61))).astype(bool)
    assert (trimmed & rim & ~near_faint).sum() < 0.05 * truth.sum()  # the flakes' rim: gone
    assert np.array_equal(trimmed & (enlarged > 0), trimmed)  # it only removes
    assert np.array_equal(trimmed[near_faint], enlarged[near_faint] > 0)  # kept as found


def test_similar_on_a_shrunk_copy_decides_each_loss_rim_at_the_paintings_resolution():
    """A selection like the marked loss made on a copy smaller than the painting (--similar,
    colour) keeps no rim of paint around the losses it enlarges, as auto's masks keep none (then
    gets their margin): only paint is removed, and what the plain enlargement took is given
    back."""
    from detection.learn import THRESHOLD, PaintingModel
    from detection.maps import AUTOMATIC_MARGIN, clean, grown
    rng = np.random.default_rng(5)
    painting = np.clip(0.35 + 0.05 * rng.standard_normal((800, 1200, 3)), 0, 1)
    painting = (painting * 255).astype(np.uint8)
    truth = np.zeros((800, 1200), bool)
    centres = [(150 + 300 * i, 200 + 200 * j) for i in range(4) for j in range(3)]
    for x, y in centres:
        cv2.circle(truth.view(np.uint8), (x, y), 20, 1, -1)
    painting[truth] = 245
    model = PaintingModel(painting, side=300)  # a copy of a quarter the painting's size
    marked = np.zeros_like(truth)
    cv2.circle(marked.view(np.uint8), centres[0], 20, 1, -1)  # the first flake, whole
    trimmed = model.select(marked, margin=0)
    plain = full_size(clean(model.probability(marked) > THRESHOLD, 4), truth.shape) > 0
    assert trimmed[truth].mean() > 0.5  # the other flakes found too
    assert np.array_equal(trimmed & plain, trimmed)  # it only removes ...
    assert not (plain & truth & ~trimmed).any()  # ... and no pixel of a loss
    assert (plain & ~truth).sum() > 0.03 * truth.sum()  # the copy's rim, enlarged
    assert (trimmed & ~truth).sum() < 0.2 * (plain & ~truth).sum()
    # then the automatic methods' margin: the soft edge a loss leaves in a photograph
    margin = grown(trimmed.view(np.uint8), AUTOMATIC_MARGIN) > 0
    assert np.array_equal(model.select(marked), margin)


def test_a_paintings_copies_are_made_once_and_are_the_analysis_copies():
    """Copies gives analysis_copy's copy of a painting at each side, made once however many
    steps ask (the network, the classifier, the rims); a side past the painting's is its own."""
    from detection.maps import Copies
    rng = np.random.default_rng(2)
    image = (rng.random((300, 500, 3)) * 255).astype(np.uint8)
    copies = Copies(image)
    small, scale = copies(200)
    expected, expected_scale = analysis_copy(image, 200)
    assert np.array_equal(small, expected) and scale == expected_scale
    assert copies(200)[0] is small
    assert copies(800)[0] is copies(500)[0] and copies(800)[1] == 1.0


def _flaked(rng, height=240, width=360, count=60):
    """Dark paint with count pale, neutral flakes of 1-4 px, a pale stroke, pale hatching, a pale
    passage and yellow dots (painted light, not lost); and the flakes' mask."""
    image = textured_painting(rng, height, width) * 0.5
    flakes = np.zeros((height, width), np.uint8)
    for x, y, r in zip(rng.integers(10, width - 10, count), rng.integers(10, height - 10, count),
                       rng.integers(0, 3, count)):
        cv2.circle(flakes, (int(x), int(y)), int(r), 1, -1)
    image[flakes > 0] = (0.86, 0.84, 0.80)
    painted = np.zeros((height, width), np.uint8)
    cv2.line(painted, (20, 30), (300, 60), 1, 3)       # a highlight's stroke
    cv2.line(painted, (200, 90), (236, 126), 1, 1)     # hatching one pixel wide, diagonal
    cv2.line(painted, (250, 100), (290, 120), 1, 1)    # ... and at 27 degrees
    painted[150:200, 250:320] = 1                       # a white robe
    image[painted > 0] = (0.9, 0.9, 0.88)
    stars = np.zeros((height, width), np.uint8)
    for x in range(40, 320, 40):                        # stars: yellow, not the ground's grey
        cv2.circle(stars, (x, 220), 2, 1, -1)
    image[stars > 0] = (0.95, 0.85, 0.35)
    flakes[painted > 0] = 0
    flakes[stars > 0] = 0
    return image, flakes > 0, (painted | stars) > 0


def test_pale_specks_are_flakes_on_darker_paint_not_pale_strokes_passages_or_colour():
    """A speck of pale, neutral ground lighter than all the paint around it is found at the
    painting's resolution; a pale stroke or passage (its own pixels fill the ring) and a yellow
    dot are not. Bands of any height give one result; 16-bit and float samples the same."""
    from detection.specks import pale_specks
    rng = np.random.default_rng(21)
    image, flakes, painted = _flaked(rng)
    rgb8 = (image * 255 + 0.5).astype(np.uint8)
    found = pale_specks(rgb8)
    assert (found & flakes).sum() / flakes.sum() > 0.9
    assert not (found & painted).any()
    assert not (found & ~cv2.dilate(flakes.view(np.uint8), np.ones((3, 3))).astype(bool)).any()
    for rows in (7, 64, 10000):
        assert np.array_equal(pale_specks(rgb8, rows=rows), found)
    assert np.array_equal(pale_specks(rgb8.astype(np.uint16) * 257), found)
    assert np.array_equal(pale_specks(rgb8.astype(np.float32) / 255), found)
    assert pale_specks(rgb8, contrast=70).sum() < found.sum() <= pale_specks(rgb8, 20).sum()
    for shape in ((1, 1, 3), (3, 3), (2, 5000, 3), (5000, 2, 3)):  # uniform: nothing
        assert not pale_specks(np.full(shape, 200, np.uint8)).any()
    few, flakes, _ = _flaked(rng, count=8)  # a clean painting's few highlights: not a flaking
    assert flakes.any() and not pale_specks(few).any()


@pytest.mark.skipif(not DEFAULT_DETECTOR.exists(), reason="pretrained/detector.keras is absent")
def test_auto_adds_the_flakes_the_network_cannot_see_and_the_slider_moves_them():
    """auto finds the flakes of a 900-px painting, which its network's 512-px copy blurs, with
    its margin, and marks nothing else the network does not; a lower threshold marks more, a
    higher fewer."""
    from detection.maps import AUTOMATIC_MARGIN, grown
    rng = np.random.default_rng(22)
    image, flakes, painted = _flaked(rng, 600, 900, 300)
    auto, learned = Detector(), Detector("learned")
    network = learned(image).astype(bool)
    assert (network & flakes).sum() / flakes.sum() < 0.75
    found = auto(image)
    assert found.shape == flakes.shape
    near = grown(flakes.view(np.uint8), AUTOMATIC_MARGIN + 1) > 0
    assert (found.astype(bool) & flakes).sum() / flakes.sum() > 0.9
    assert not (found.astype(bool) & ~near & ~network).any()
    probability = auto.probability(image)
    assert np.array_equal(auto.from_probability(probability, flakes.shape, image=image), found)
    marked = [auto.from_probability(probability, flakes.shape, t, image=image).sum()
              for t in (0.5, 0.95, 0.99)]
    assert marked[0] >= marked[1] >= marked[2] > 0
    without = auto.from_probability(probability, flakes.shape).astype(bool)  # no painting given
    assert (without & flakes).sum() < 0.8 * (found.astype(bool) & flakes).sum()


def test_auto_teaches_the_painting_only_where_the_network_judges_it_damaged(monkeypatch):
    """The painting's classifier learns from the network's sure losses only on a painting the
    network itself judges damaged: losses over the bootstrap share but none sure enough for the
    image-level decision (a pen drawing's pale paper) leave the network's map as it is."""
    from detection import registry
    rng = np.random.default_rng(23)
    image, truth = with_losses(rng, textured_painting(rng), count=6, radius=(14, 20))
    assert truth.mean() > 1.5 * registry.BOOTSTRAP_SHARE
    detector = Detector()
    for level, taught in ((0.8, False), (0.97, True)):
        given = np.where(truth, level, 0.1).astype(np.float32)
        monkeypatch.setattr(registry, "network_probability", lambda *_, **__: given.copy())
        assert detector.damaged(given) == taught
        probability = registry.auto_probability(detector, image)
        assert np.array_equal(probability, given) != taught
