"""Build the large-painting set the fills are measured on at full size (issue 30): the Art
Institute of Chicago's public-domain paintings of the extra corpus (../shared/data/corpus's
MANIFEST.tsv, repository klv4de/ArtWall) whose original is at least --min-side px on its longer
side, read at their own size from the fetched snapshot (the corpus itself keeps them at 768 px),
each checked against the manifest's sha256, made upright RGB and written as PNG into the
git-ignored data/large. No inpainting model of the project was trained on them (the shipped
Context Encoder's third run left these 41 out of its corpus paintings: pretrained/README.md; the
detector's corpus copies are 768 px).

    python bench/large_paintings.py MIRROR     # the folder the snapshots were fetched into
    python bench/large_paintings.py --repo ArtWall/.git     # or your own clone of the repository
    python evaluate.py --data data/large --full-size --masks centre blobs
"""
import argparse
import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT.parent / "shared" / "data" / "corpus" / "MANIFEST.tsv"
REPOSITORY = "klv4de/ArtWall"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mirror", type=Path, nargs="?",
                        help="the folder holding klv4de+ArtWall/repo (as the corpus's README "
                        "fetches it)")
    parser.add_argument("--repo", type=Path, help="instead: the git directory of a clone of "
                        "github.com/klv4de/ArtWall (its .git folder, or a bare clone)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "large")
    parser.add_argument("--min-side", type=int, default=1200,
                        help="the shortest longer side kept, px (default 1200)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    args = parser.parse_args(argv)
    from PIL import Image, ImageOps
    Image.MAX_IMAGE_PIXELS = 2 ** 27
    if not args.manifest.is_file():
        sys.exit(f"error: no corpus manifest at {args.manifest}")
    if args.repo is None and args.mirror is None:
        sys.exit(f"error: give the folder of the fetched snapshots, or --repo with a clone of "
                 f"{REPOSITORY}")
    gitdir = args.repo or args.mirror / REPOSITORY.replace("/", "+") / "repo"
    if not gitdir.is_dir():
        sys.exit(f"error: no git directory of {REPOSITORY} at {gitdir} (clone "
                 f"https://github.com/{REPOSITORY}, or fetch it as the corpus's README says)")
    with open(args.manifest, newline="") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t")
                if row["source_repo"] == REPOSITORY
                and max(int(row["width"]), int(row["height"])) >= args.min_side]
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for row in rows:
        found = subprocess.run(
            ["git", "--git-dir", str(gitdir), "show",
             f"{row['source_commit']}:{row['source_path']}"], capture_output=True)
        if found.returncode or hashlib.sha256(found.stdout).hexdigest() != row["source_sha256"]:
            print(f"warning: {row['source_path']} missing or changed, skipped", file=sys.stderr)
            continue
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(found.stdout))).convert("RGB")
        image.save(args.out / (Path(row["file"]).stem + ".png"))
        written += 1
    print(f"{written} paintings of at least {args.min_side} px in {args.out}")


if __name__ == "__main__":
    main()
