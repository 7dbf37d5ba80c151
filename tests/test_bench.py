"""The benchmark's FLOP count, on layers small enough to count by hand (timings are not tested)."""
import importlib.util

import keras
import pytest

from conftest import ROOT
from models.layers import ChannelwiseDense

spec = importlib.util.spec_from_file_location("bench", ROOT / "bench" / "bench_context_encoder.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_forward_flops_counts_convolutions_and_channelwise_dense_layers():
    inputs = keras.Input((8, 12, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)  # out 4 x 6 x 4
    x = ChannelwiseDense()(x)  # 4 channels, each 24 x 24 positions
    x = keras.layers.UpSampling2D(2)(x)  # no arithmetic counted
    x = keras.layers.Conv2D(5, 3, padding="same")(x)  # out 8 x 12 x 5, from 4 channels
    model = keras.Model(inputs, x)
    expected = 2 * (4 * 6 * 3 * 4 * 9) + 2 * (4 * 24 * 24) + 2 * (8 * 12 * 4 * 5 * 9)
    assert bench.forward_flops(model) == expected


def test_the_large_painting_set_is_built_from_the_snapshot_checked_and_at_its_own_size(
        tmp_path, capsys):
    """bench/large_paintings.py: the manifest's ArtWall rows of at least --min-side px, read
    from the fetched snapshot at their own size; a changed file is skipped with a warning."""
    import hashlib
    import subprocess

    from PIL import Image
    from bench import large_paintings

    work = tmp_path / "work"
    (work / "images").mkdir(parents=True)
    sizes = {"big.jpg": (1300, 900), "small.jpg": (700, 500), "changed.jpg": (1400, 800)}
    for name, size in sizes.items():
        Image.new("RGB", size, (120, 80, 40)).save(work / "images" / name, quality=95)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(work)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "images"], check=True)
    commit = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work),
                    str(mirror / "klv4de+ArtWall" / "repo")], check=True)
    rows = ["file\twidth\theight\tsource_repo\tsource_commit\tsource_path\tsource_sha256\tlicence"]
    for name, (width, height) in sizes.items():
        digest = hashlib.sha256((work / "images" / name).read_bytes()).hexdigest()
        if name == "changed.jpg":
            digest = "0" * 64
        rows.append(f"artwall/{name}\t{width}\t{height}\tklv4de/ArtWall\t{commit}\t"
                    f"images/{name}\t{digest}\tpublic domain")
    rows.append("peopleart/x.jpg\t2000\t2000\tBathVisArtData/PeopleArt\tabc\tx.jpg\t0\tnc")
    manifest = tmp_path / "MANIFEST.tsv"
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "large"
    large_paintings.main([str(mirror), "--out", str(out), "--manifest", str(manifest)])
    assert sorted(p.name for p in out.iterdir()) == ["big.png"]
    with Image.open(out / "big.png") as made:
        assert made.size == (1300, 900)
    assert "changed.jpg missing or changed" in capsys.readouterr().err
    # a clone of the user's own, by its git directory
    again = tmp_path / "again"
    large_paintings.main(["--repo", str(work / ".git"), "--out", str(again), "--manifest",
                          str(manifest)])
    assert sorted(p.name for p in again.iterdir()) == ["big.png"]
    with pytest.raises(SystemExit, match="no git directory"):
        large_paintings.main([str(tmp_path / "nowhere"), "--out", str(out), "--manifest",
                              str(manifest)])
