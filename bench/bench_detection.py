"""Measure damage detection against known masks, and its false alarms on clean paintings.

Data (../shared/data, see its damaged/README.md):
- the five illuminated manuscripts with real paint loss and the authors' masks. The detectors'
  settings were chosen on three of them (TUNED) and the other two (HELD_OUT) are reported apart,
  out of sample;
- the Thai murals (synthetic white strokes; the true mask is where the two copies differ);
- the craquelure close-ups (crack masks);
- the val paintings with flakes of gesso drawn at their own size by samples/losses.py (a
  generator the detector never trained with): fresco-like loss among real paint and pale skies;
- false alarms: the fraction of pixels marked on every clean painting of paintings/val, and on
  clean paintings with large white passages (WHITE_PASSAGES: snow, linen, skies, paper, white
  grounds; those from train/ were seen by the learned detector in training).

For each detector (learned, colour, white) and for 3 clicks per page (the centres of the three
largest true losses, as a user would click them): per image and pooled over the pixels, the
precision, recall, F1 and IoU, and F1 with a 3-pixel boundary tolerance. Then the time to
detect a 24-megapixel scan beside the time OpenCV Telea takes to fill it, measured in one run.
Writes detection_manuscripts.png (painting | true | each detector; found in magenta, missed in
cyan, false in orange), detection_murals.png (the two real aged murals, which have no masks, with
what each detector marks) and detection_clean.png (the clean paintings marked most) to --out.

examples:
  python bench/bench_detection.py
  python bench/bench_detection.py --model runs/det/model.keras --out runs/detection
  python bench/bench_detection.py --skip-speed
"""
import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils import env  # noqa: E402

env.prepare()  # TensorFlow's environment, as the scripts set it
from detection.detect import (DEFAULT_DETECTOR, Detector, detection_scores,  # noqa: E402
                              true_damage)
from detection.learn import PaintingModel  # noqa: E402
from detection.maps import innermost  # noqa: E402
from utils.images import find_images, read_image, to_uint8  # noqa: E402
from utils.plotting import image_grid  # noqa: E402
from filling.fill import fill  # noqa: E402
from bench import common  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
TUNED = ("manuscript-101", "manuscript-201", "manuscript-203")
HELD_OUT = ("manuscript-106", "manuscript-204")
WHITE_PASSAGES = (
    "train/museum-p036.jpg",   # Mondrian, white ground
    "train/museum-p032.jpg",   # Mondrian, white ground
    "val/peopleart-northernrenaissance-albrecht-durer-lillium-martagon-details.jpg",  # paper
    "train/peopleart-naturalism-archibald-thorburn-richardson-s-skua-great-skua-pomarine-skua.jpg",
    "train/peopleart-northernrenaissance-albrecht-durer-the-castle-at-trento-1495.jpg",
    "train/peopleart-internationalgothic-limbourg-brothers-psalm-cxxx.jpg",  # a page's vellum
    "train/peopleart-academicism-fyodor-bronnikov-landscape-with-ruins.jpg",  # sky
    "val/peopleart-tonalism-john-henry-twachtman-emerald-pool.jpg",  # white mineral crust
    "train/styleref-vg-houses.jpg",
    "train/peopleart-symbolism-george-frederick-watts-study-of-clouds-1900.jpg",
    "train/peopleart-naturalism-jose-malhoa-dying-the-clothes-1905.jpg",  # linen
    "train/peopleart-japonism-pierre-bonnard-snowballs-1891.jpg",
)
COLOURS = {"found": (1.0, 0.0, 1.0), "missed": (0.0, 1.0, 1.0), "false": (1.0, 0.6, 0.0)}


def read_mask(path):
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) > 127


def manuscripts(folder):
    """[(name, image, true mask)] for every manuscript-NNN.png with its _mask.png."""
    return [(p.stem, read_image(p), read_mask(p.with_name(p.stem + "_mask.png")))
            for p in sorted(Path(folder).glob("manuscript-*.png")) if "_mask" not in p.stem]


def craquelure(folder):
    return [(p.stem, read_image(p), read_mask(p.with_name(p.stem + "_mask.png")))
            for p in sorted(Path(folder).glob("craquelure-*.jpg"))]


def thai_murals(folder):
    found = []
    for damaged_path in sorted(Path(folder).glob("*-toinpaint.png")):
        original = damaged_path.with_name(damaged_path.name.replace("-toinpaint", "-original"))
        if original.exists():
            damaged = read_image(damaged_path)
            found.append((damaged_path.name.removesuffix("-toinpaint.png"), damaged,
                          true_damage(read_image(original), damaged)))
    return found


def flaked_paintings():
    """(name, damaged, true loss) of each val painting at its own size with flakes of gesso
    drawn by samples/losses.py (a generator the detector never trained with: clusters of
    polygonal flakes, lacunae, abrasion, veils; seed = the painting's index): fresco-like loss
    over real paint, pale skies and white passages among it."""
    from samples.losses import damage, losses
    cases = []
    for index, path in enumerate(find_images(SHARED / "paintings" / "val")):
        image = read_image(path)  # float32 in [0, 1], whatever the file's depth
        truth = losses(image.shape[:2], seed=index)
        cases.append((path.stem[:40], damage(image, truth, seed=index), truth))
    return cases


def clicks(truth, count=3):
    """The points a user would click: the innermost pixel of each of the largest true losses."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(truth.view(np.uint8), connectivity=8)
    return tuple(innermost(labels == label)
                 for label in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:count] + 1)


def pooled(scores):
    tp, fp, fn = (sum(s[k] for s in scores) for k in ("tp", "fp", "fn"))
    right, found = sum(s["tol_right"] for s in scores), sum(s["tol_found"] for s in scores)
    p_tol = right / max(1, tp + fp)
    r_tol = found / max(1, tp + fn)
    return {"precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn),
            "f1": 2 * tp / max(1, 2 * tp + fp + fn), "iou": tp / max(1, tp + fp + fn),
            "tol_f1": 2 * p_tol * r_tol / max(1e-9, p_tol + r_tol)}


def row(name, s, extra=""):
    return (f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
            f"{s['iou']:.3f} | {s['tol_f1']:.3f} |{extra}")


def evaluate(title, cases, detectors, groups=None):
    """Print a table per detector; returns {detector: {case name: found mask}}."""
    found = {}
    for label, make in detectors.items():
        print(f"\n**{title}, {label}**\n")
        print("| image | precision | recall | F1 | IoU | F1 (3 px) | marked / true |")
        print("|---|---|---|---|---|---|---|")
        scores, found[label] = {}, {}
        for name, image, truth in cases:
            start = time.perf_counter()
            mask = make(truth)(image) > 0
            seconds = time.perf_counter() - start
            found[label][name] = mask
            scores[name] = detection_scores(mask, truth, tolerance=3)
            print(row(name, scores[name], f" {mask.mean():.1%} / {truth.mean():.1%} "
                                          f"({seconds:.1f} s) |"))
        for group, names in (groups or {"all": [n for n, _, _ in cases]}).items():
            chosen = [scores[n] for n in names if n in scores]
            if chosen:
                print(row(f"**pooled, {group}**", pooled(chosen), " |"))
    return found


def overlay(image, found, truth):
    shown = image.copy()
    shown[found & truth] = COLOURS["found"]
    shown[~found & truth] = COLOURS["missed"]
    shown[found & ~truth] = COLOURS["false"]
    return shown


def false_alarms(detectors, out):
    print("\n**False alarms on clean paintings: the fraction of each painting marked**\n")
    print("| detector | val paintings: mean | val: worst | white passages: mean | worst | "
          "held-out corpus: mean | worst |")
    print("|---|---|---|---|---|---|---|")
    val = find_images(SHARED / "paintings" / "val")
    whites = [SHARED / "paintings" / name for name in WHITE_PASSAGES
              if (SHARED / "paintings" / name).exists()]
    heldout = common.corpus_split()[1]  # never trained on; [] where data/corpus is not built
    images = {p: read_image(p) for p in {*val, *whites, *heldout}}
    worst_rows = []
    for label, detector in detectors.items():
        marked = {p: float((detector(images[p]) > 0).mean()) for p in images}
        v, w = [marked[p] for p in val], [marked[p] for p in whites]
        h = [marked[p] for p in heldout] or [float("nan")]
        worst = max(marked, key=marked.get)
        worst_white = max(whites, key=marked.get)
        print(f"| {label} | {np.mean(v):.2%} | {max(v):.2%} ({max(val, key=marked.get).stem}) "
              f"| {np.mean(w):.2%} | {max(w):.2%} ({worst_white.stem}) | {np.mean(h):.2%} | "
              f"{max(h):.2%} |")
        shown = images[worst].copy()
        shown[detector(shown) > 0] = COLOURS["false"]
        worst_rows.append([images[worst], shown])
    image_grid(worst_rows, ["the clean painting each detector marks most",
                            "marked (orange)"], out / "detection_clean.png")
    print(f"\n({len(val)} val paintings; white passages: {len(whites)} paintings, "
          f"{sum(str(n).startswith('val/') for n in WHITE_PASSAGES)} of them from val; held-out "
          f"corpus: {len(heldout)} paintings"
          f"{'' if heldout else ', data/corpus not built (../shared/data/corpus/README.md)'})")


def single_clicks(pages, out):
    """Each of the three clicks alone on each page: the area it selects against the page's true
    loss, and its precision; a figure of every click's selection."""
    print("\n**One click alone (the innermost pixel of each of the 3 largest losses)**\n")
    print("| page | click | selected / true loss of the page | precision | seconds |")
    print("|---|---|---|---|---|")
    rows, worst = [], 0.0
    for name, image, truth in pages:
        shown = [image]
        for point in clicks(truth):
            start = time.perf_counter()
            found = Detector(points=(point,))(image) > 0
            seconds = time.perf_counter() - start
            ratio = found.sum() / truth.sum()
            worst = max(worst, ratio)
            print(f"| {name} | {point} | {ratio:.2f} | "
                  f"{detection_scores(found, truth)['precision']:.3f} | {seconds:.2f} |")
            marked = overlay(image, found, truth)
            cv2.drawMarker(marked, point, (0.0, 1.0, 0.0), cv2.MARKER_CROSS, 24, 3)
            shown.append(marked)
        rows.append(shown)
    print(f"\nthe largest single selection: {worst:.2f}x its page's true loss")
    image_grid(rows, ["page", "click 1", "click 2", "click 3"], out / "detection_clicks.png",
               max_width=2400)


def stroke_on(region, radius=5, length=100):
    """A correction stroke as a restorer makes one: a brush of radius at most 5 px and length
    at most 100 px through the region's innermost pixel along its longest axis, kept inside it."""
    x, y = innermost(region)
    inside = cv2.distanceTransform(region.view(np.uint8), cv2.DIST_L2, 5)
    width = 2 * int(max(1, min(radius, inside[y, x] - 0.5))) + 1
    ys, xs = np.nonzero(region)
    axis = np.linalg.eigh(np.cov(np.stack([xs, ys])))[1][:, -1] if len(xs) > 2 else (1.0, 0.0)
    ends = [(int(x + sign * axis[0] * (length - width) / 2),
             int(y + sign * axis[1] * (length - width) / 2)) for sign in (-1, 1)]
    drawn = np.zeros(region.shape, np.uint8)
    cv2.line(drawn, ends[0], ends[1], 1, width)
    drawn = (drawn > 0) & region
    _, labels = cv2.connectedComponents(drawn.view(np.uint8), connectivity=8)
    return labels == labels[y, x]


def largest_regions(mask, count):
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:count] + 1
    return [labels == label for label in order if stats[label, cv2.CC_STAT_AREA] >= 4]


def learning(pages, rounds=4, out=None):
    """Clicks that learn (the workbench's "learn every loss like my marks"): 3 clicks, then
    rounds of corrections, each 3 eraser strokes on the largest wrongly marked regions and 3
    brush strokes on the largest missed losses, learned from again; F1 after each round."""
    print("\n**Learning from the marks: 3 clicks, then rounds of 6 correction strokes (3 eraser "
          "strokes on the largest false regions, 3 brush strokes on the largest missed losses; "
          "radius <= 5 px, length <= 100 px), learned from after each**\n")
    print("| page | " + " | ".join(f"{6 * r} strokes: F1 (P / R)" for r in range(rounds + 1)) +
          " | seconds a learn |")
    print("|---|" + "---|" * (rounds + 2))
    totals = {}
    for name, image, truth in pages:
        model = PaintingModel(image)
        own = Detector(points=clicks(truth))(image) > 0
        brushed, erased = np.zeros_like(own), np.zeros_like(own)
        cells, times = [], []
        for r in range(rounds + 1):
            losses = (own | brushed) & ~erased
            start = time.perf_counter()
            mask = (model.select(losses, erased) | losses) & ~erased
            times.append(time.perf_counter() - start)
            s = detection_scores(mask, truth)
            totals.setdefault(r, []).append((name, s))
            cells.append(f"{s['f1']:.3f} ({s['precision']:.2f} / {s['recall']:.2f})")
            for region in largest_regions(mask & ~truth, 3):
                stroke = stroke_on(region)
                erased |= stroke
                brushed &= ~stroke
            for region in largest_regions(truth & ~mask, 3):
                stroke = stroke_on(region)
                brushed |= stroke
                erased &= ~stroke
        print(f"| {name} | " + " | ".join(cells) + f" | {np.mean(times):.2f} |")
    for group, names in (("tuned on", TUNED), ("held out", HELD_OUT)):
        cells = []
        for r in range(rounds + 1):
            p = pooled([{**s, "tol_right": 0, "tol_found": 0} for n, s in totals[r]
                        if n in names])
            cells.append(f"{p['f1']:.3f} ({p['precision']:.2f} / {p['recall']:.2f})")
        print(f"| **pooled, {group}** | " + " | ".join(cells) + " | |")


def learning_speed():
    """Seconds to describe a 1600-px painting's pixels (once) and to learn from marks (each
    time), measured here."""
    images, _ = common.sources()
    image, truth = common.painting(images[0], (1200, 1600), "paint loss", 0)
    start = time.perf_counter()
    model = PaintingModel(image)
    describe = time.perf_counter() - start
    marks = np.zeros(image.shape[:2], bool)
    marks[truth > 0] = True
    times = []
    for seed in range(3):
        start = time.perf_counter()
        model.select(marks & (np.random.default_rng(seed).random(marks.shape) < 0.3))
        times.append(time.perf_counter() - start)
    print(f"\n**Learning on a 1600 x 1200 painting**: its pixels described once in "
          f"{describe:.2f} s; each learn and new mask {np.median(times):.2f} s (median of 3)")


CURVE_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)


def curves(detector, pages, out):
    """The default detector's precision and recall (pooled over the pixels) on the tuning and
    the held-out manuscripts, and the share it marks of clean paintings (val, held-out corpus),
    at every threshold of its probability map (the workbench's slider): printed, and drawn in
    detection_curves.png with the default threshold marked."""
    def at(probability, image, threshold):
        return detector.from_probability(probability, image.shape[:2], threshold, image=image) > 0

    pr = {}
    for group, names in (("tuning pages", TUNED), ("held-out pages", HELD_OUT)):
        counts = {t: np.zeros(3) for t in CURVE_THRESHOLDS}
        for name, image, truth in pages:
            if name in names:
                probability = detector.probability(image)
                for t in CURVE_THRESHOLDS:
                    s = detection_scores(at(probability, image, t), truth)
                    counts[t] += (s["tp"], s["fp"], s["fn"])
        pr[group] = {t: (tp / max(1, tp + fp), tp / max(1, tp + fn), 2 * tp / max(1, 2 * tp + fp + fn))
                     for t, (tp, fp, fn) in counts.items()}
    clean = {"val paintings": find_images(SHARED / "paintings" / "val"),
             "white passages": [SHARED / "paintings" / name for name in WHITE_PASSAGES
                                if (SHARED / "paintings" / name).exists()],
             "held-out corpus": common.corpus_split()[1]}
    shares = {}
    for group, paths in clean.items():
        marked = {t: [] for t in CURVE_THRESHOLDS}
        for path in paths:
            image = read_image(path)
            probability = detector.probability(image)
            for t in CURVE_THRESHOLDS:
                marked[t].append(float(at(probability, image, t).mean()))
        if paths:
            shares[group] = {t: (np.mean(v), np.max(v)) for t, v in marked.items()}
    print(f"\n**The default detector ({detector.method}) at each threshold: manuscripts' pooled "
          f"precision / recall / F1, clean paintings' mean / worst share marked**\n")
    print("| threshold | " + " | ".join(pr) + " | " + " | ".join(shares) + " |")
    print("|---|" + "---|" * (len(pr) + len(shares)))
    for t in CURVE_THRESHOLDS:
        cells = [f"{p:.2f} / {r:.2f} / {f:.3f}" for p, r, f in (pr[g][t] for g in pr)]
        cells += [f"{m:.2%} / {w:.2%}" for m, w in (shares[g][t] for g in shares)]
        print(f"| {t}{' (default)' if t == detector.threshold else ''} | " + " | ".join(cells) + " |")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    for group, curve in pr.items():
        line, = left.plot([curve[t][1] for t in CURVE_THRESHOLDS],
                          [curve[t][0] for t in CURVE_THRESHOLDS], "o-", ms=3, label=group)
        p, r, _ = curve[detector.threshold]
        left.plot(r, p, "*", ms=14, color=line.get_color())
    left.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
             title="manuscripts (real losses), pooled over pixels")
    left.legend(loc="lower left", title=f"star: threshold {detector.threshold}")
    for group, curve in shares.items():
        line, = right.plot(CURVE_THRESHOLDS, [100 * curve[t][0] for t in CURVE_THRESHOLDS],
                           "o-", ms=3, label=f"{group}: mean")
        right.plot(CURVE_THRESHOLDS, [100 * curve[t][1] for t in CURVE_THRESHOLDS], "--",
                   color=line.get_color(), label=f"{group}: worst")
        right.plot(detector.threshold, 100 * curve[detector.threshold][0], "*", ms=14,
                   color=line.get_color())
    right.set(xlabel="threshold (the workbench's slider)", ylabel="% of a clean painting marked",
              yscale="symlog", title="clean paintings: false alarms")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "detection_curves.png", dpi=110)
    plt.close(fig)


def speed(detector):
    """Seconds to detect a 24-megapixel painting and to fill its mask with Telea."""
    images, _ = common.sources()
    image, _ = common.painting(images[0], (4000, 6000), "spots", 0)
    detector(image[:512, :512])  # load the model and build its graph once, as restore.py does
    start = time.perf_counter()
    mask = detector(image)
    detect = time.perf_counter() - start
    start = time.perf_counter()
    fill(image, mask, "telea")
    telea = time.perf_counter() - start
    print(f"\n**24-megapixel scan (6000 x 4000, {mask.mean():.1%} marked)**: detection "
          f"({detector.method}) {detect:.2f} s, Telea filling its mask {telea:.2f} s: "
          f"**{detect / telea:.2f}x** Telea's time")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(SHARED / "damaged"))
    p.add_argument("--model", default=str(DEFAULT_DETECTOR), help="the learned detector")
    p.add_argument("--out", default="runs/detection", help="folder for the figures")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--curves-only", action="store_true",
                   help="stop after the manuscripts' tables and the threshold curves")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    auto = Detector("auto", model=args.model)
    learned = Detector("learned", model=args.model)
    learned.network()
    colour = Detector("colour", model=args.model)
    detectors = {"auto (default)": lambda truth: auto, "learned": lambda truth: learned,
                 "colour": lambda truth: colour,
                 "white": lambda truth: Detector("white")}
    pages = manuscripts(args.data)
    if not pages:
        sys.exit(f"no manuscript-NNN.png with its _mask.png in {args.data}")
    found = evaluate("Manuscripts (real paint loss)", pages,
                     {**detectors, "3 clicks": lambda truth: Detector(points=clicks(truth)),
                      "3 clicks, similar": lambda truth: Detector(points=clicks(truth),
                                                                  similar=True)},
                     {"tuned on (" + ", ".join(n[-3:] for n in TUNED) + ")": TUNED,
                      "held out (" + ", ".join(n[-3:] for n in HELD_OUT) + ")": HELD_OUT,
                      "all five": TUNED + HELD_OUT})
    rows = [[image, np.repeat(truth[..., None], 3, 2).astype(np.float32),
             *(overlay(image, found[label][name], truth) for label in found)]
            for name, image, truth in pages]
    image_grid(rows, ["painting", "true loss", *found], out / "detection_manuscripts.png",
               max_width=2400)
    curves(auto, pages, out)
    if args.curves_only:
        return
    single_clicks(pages, out)
    evaluate("Val paintings with flakes of gesso (samples/losses.py)", flaked_paintings(),
             {"auto (default)": lambda truth: auto,
              "3 clicks": lambda truth: Detector(points=clicks(truth)),
              "3 clicks, similar": lambda truth: Detector(points=clicks(truth), similar=True)})
    learning(pages)
    learning_speed()
    evaluate("Thai murals (synthetic white strokes)", thai_murals(args.data), detectors)
    cracks = craquelure(args.data)
    evaluate("Craquelure (cracks)", cracks, detectors)
    print("\nDo the crack masks describe their images? The response of a dark-line filter (black-"
          "hat of the lightness, 9-pixel disc) on the true crack pixels against the whole image "
          "(equal means the mask misses the image's cracks):\n")
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    for name, image, truth in cracks:
        response = cv2.morphologyEx(to_uint8(image).mean(axis=2).astype(np.uint8),
                                    cv2.MORPH_BLACKHAT, disc).astype(float)
        print(f"- {name}: {response[truth].mean():.1f} on the mask, {response.mean():.1f} "
              f"overall, {response[response > np.percentile(response, 97)].mean():.1f} on the "
              f"image's darkest 3% of lines")
    murals = sorted(Path(args.data).glob("mural-real-*.jpg"))
    if murals:  # real losses without masks: the figure is the measure
        detectors_now = {"auto (default)": auto, "learned": learned, "colour": colour}
        rows = []
        print("\n**Real aged murals (no masks): the fraction marked**\n")
        for path in murals:
            image = read_image(path)
            shown = []
            for label, detector in detectors_now.items():
                found = detector(image) > 0
                print(f"- {path.stem}, {label}: {found.mean():.1%}")
                marked = image.copy()
                marked[found] = 0.45 * image[found] + 0.55 * np.array(COLOURS["found"])
                shown.append(marked)
            rows.append([image, *shown])
        image_grid(rows, ["mural", *detectors_now], out / "detection_murals.png", max_width=2400)
    false_alarms({"auto (default)": auto, "learned": learned, "colour": colour,
                        "white": Detector("white")}, out)
    if not args.skip_speed:
        speed(auto)
    print(f"\nwrote {out / 'detection_manuscripts.png'}, {out / 'detection_clicks.png'}, "
          f"{out / 'detection_murals.png'} and {out / 'detection_clean.png'}")


if __name__ == "__main__":
    main()
