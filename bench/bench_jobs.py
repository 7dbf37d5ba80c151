"""Benchmark restore.py --jobs: a folder of paintings restored by one process and by N worker
processes, side by side in one run, with the defaults (the learned detector, then auto).

The paintings are 1600 x 1200 (the shared paintings, or scikit-image's samples without them,
each with white flakes, cracks and losses painted on). Both runs restore the same folder into
their own output folders; the restored files must be byte-identical. Target (issue 13): at
least 1.7x with --jobs 2 against --jobs 1 on two cores; the peak memory is that of each process
(restore.py reports its workers').

examples:
  python bench/bench_jobs.py                       # 40 paintings, --jobs 1 against --jobs 2
  python bench/bench_jobs.py --count 8 --jobs 2 4
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (1200, 1600)  # height, width
WITH_PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
             "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
             "file=sys.stderr); sys.exit(code)")


def make_paintings(folder, count, seed=0):
    """count damaged paintings of SHAPE in folder (bench/common.py's), made in a child process so
    that the bench's own memory stays out of every measurement."""
    arguments = dict(folder=str(folder), count=count, size=SHAPE, damage="flakes", seed=seed,
                     folders=["val", "train"], interpolation="area",
                     samples=["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"])
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "common.py"),
                             json.dumps(arguments)], capture_output=True, text=True, check=True)
    shared, _ = json.loads(result.stdout.splitlines()[-1])
    return "shared paintings" if shared else "scikit-image samples"


def restore(folder, out, jobs):
    """(seconds, peak memory of each restoring process in GB) of one restore.py run."""
    start = time.perf_counter()
    # restore.py under a parent of its own, whose children's peak is restore.py's alone
    result = subprocess.run([sys.executable, "-c", WITH_PEAK, sys.executable,
                             str(ROOT / "restore.py"), str(folder), "-o", str(out), "--jobs",
                             str(jobs)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"restore.py --jobs {jobs} failed:\n{result.stderr[-2000:]}")
    if jobs == 1:
        return seconds, [int(re.search(r"PEAK (\d+)", result.stderr).group(1)) * 1024 / 1e9]
    line = re.search(r"peak memory of each: ([\d., ]+) GB", result.stdout + result.stderr)
    return seconds, [float(v) for v in line.group(1).split(",")]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=40, help="paintings in the folder")
    p.add_argument("--jobs", type=int, nargs="+", default=[2],
                   help="worker processes to compare with one")
    p.add_argument("--repeats", type=int, default=3,
                   help="runs of each, taken in turn")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "paintings"
        folder.mkdir()
        source = make_paintings(folder, args.count)
        print(f"{args.count} paintings of {SHAPE[1]} x {SHAPE[0]} ({source}), restore.py with "
              f"its defaults (learned detection, auto fill), {args.repeats} runs each, in turn")
        runs = {jobs: [] for jobs in (1, *args.jobs)}
        for repeat in range(args.repeats):
            for jobs in runs:
                runs[jobs].append(restore(folder, Path(tmp) / f"out_{jobs}_{repeat}", jobs))
        reference = sorted((Path(tmp) / "out_1_0").glob("*_restored.png"))
        base = [seconds for seconds, _ in runs[1]]
        for jobs, results in runs.items():
            seconds = [s for s, _ in results]
            mean = sum(seconds) / len(seconds)
            memory = max((m for _, m in results), key=max)
            same = all(r.read_bytes() == (Path(tmp) / f"out_{jobs}_{k}" / r.name).read_bytes()
                       for r in reference for k in range(args.repeats))
            each = ", ".join(f"{s:.1f}" for s in seconds)
            print(f"--jobs {jobs}: mean {mean:5.1f} s (runs {each})  {args.count / mean:.2f} "
                  f"paintings/s  speed-up {sum(base) / sum(seconds):.2f}x on the means, "
                  f"{min(base) / min(seconds):.2f}x fastest to fastest  "
                  f"peak memory of each {'worker' if jobs > 1 else 'process'}: "
                  f"{', '.join(f'{m:.2f}' for m in memory)} GB  files identical to --jobs 1's "
                  f"first run: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
