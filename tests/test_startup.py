"""What a user pays before anything runs: every script's --help answers at once without loading
TensorFlow, and requirements.txt names every package the code imports."""
import os
import re
import subprocess
import sys
import time
from importlib.metadata import packages_distributions

import pytest

from conftest import ROOT, imports, run_script

SCRIPTS = sorted(p.name for p in ROOT.glob("*.py"))
HEAVY = {"tensorflow", "keras"}


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_answers_at_once_without_tensorflow(script, monkeypatch):
    """Each in a fresh process, as a user runs it; Python's own import log (-X importtime)
    tells what it loaded. TensorFlow alone takes seconds to import."""
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    start = time.perf_counter()
    result = run_script(script, "--help", fresh=True, timeout=60)
    seconds = time.perf_counter() - start
    log = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    said = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert result.returncode == 0 and result.stdout.startswith("usage:"), said
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in log}
    assert not loaded & HEAVY, f"{script} --help imports {sorted(loaded & HEAVY)}"
    assert seconds < 2, f"{script} --help took {seconds:.1f} s"


def project_files():
    """Every .py file of the project: tracked, or new and not ignored (so not .venv)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "*.py"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode == 0:
        paths = [ROOT / line for line in listed.stdout.splitlines()]
    else:  # not a git checkout: every .py file outside hidden folders
        paths = [p for p in ROOT.rglob("*.py")
                 if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)]
    return [p for p in paths if p.is_file()]  # a tracked file deleted in the work tree


def normalized(name):
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_name_every_imported_package():
    """A package that arrives only as another's dependency can vanish with that one's next
    release (scipy came with scikit-image)."""
    listed = {normalized(m.group()) for line in (ROOT / "requirements.txt").read_text()
              .splitlines() if (m := re.match(r"[A-Za-z0-9._-]+", line.strip()))}
    ours = {p.stem for p in ROOT.glob("*.py")} | {p.name for p in ROOT.iterdir() if p.is_dir()}
    providers = packages_distributions()
    missing = []
    for path in project_files():
        # a script in tests/, bench/ or docs/ also imports the modules beside it
        beside = {p.stem for p in path.parent.glob("*.py")}
        for name in sorted(imports(path) - set(sys.stdlib_module_names) - ours - beside):
            dists = providers.get(name, [])
            if not any(normalized(d) in listed for d in dists):
                missing.append(f"{path.relative_to(ROOT)} imports {name} "
                               f"({', '.join(dists) or 'not installed'})")
    assert not missing, missing


def test_workers_for_classical_fills_and_white_detection_never_load_tensorflow():
    """restore.py --jobs: a worker that fills with a classical method what the white rule finds
    starts without TensorFlow; one that runs a network (the default) needs it."""
    code = ("import sys\n"
            "import restore\n"
            "from detection.detect import Detector\n"
            "args = restore.parse_args(['p.png', '--method', 'telea', '--detect', 'white'])\n"
            "restore._start_worker(args, Detector('white'), True, 1, None)\n"
            "assert 'setup_error' not in restore._WORKER, restore._WORKER\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
            "assert restore.needs_tensorflow(restore.parse_args(['p.png']), Detector())\n"
            "assert restore.needs_tensorflow(restore.parse_args(['p.png', '--detect', 'white']),\n"
            "                                Detector('white'))  # auto's model\n"
            "print('clean')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "clean", result.stderr


@pytest.mark.parametrize("script, given, expected", [
    ("restore.py", {}, "1 1"), ("app.py", {}, "1 1"), ("pixel_diff.py", {}, "1 1"),
    ("demo.py", {}, "1 1"), ("train_context_encoder.py", {}, "1 None"),
    ("restore.py", {"TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "0"}, "1 0"),
    ("restore.py", {"TF_ENABLE_ONEDNN_OPTS": "0"}, "0 1")])
def test_the_restoring_tools_give_tensorflow_memory_back_and_training_keeps_its_pool(
        script, given, expected):
    """oneDNN's own allocator keeps the largest working set it ever held for the rest of the
    process (1.5 GB of a large scan's detection): the tools that restore have oneDNN allocate
    from the system, training keeps the faster pool, and a user's own settings are kept."""
    code = ("import os, runpy, sys\n"
            f"sys.argv = [{script!r}, '--help']\n"
            "try:\n"
            f"    runpy.run_path({script!r}, run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "print('onednn', os.environ.get('TF_ENABLE_ONEDNN_OPTS'),\n"
            "      os.environ.get('TF_ONEDNN_USE_SYSTEM_ALLOCATOR'))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "TF_ENABLE_ONEDNN_OPTS")}
    env.update(given)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == f"onednn {expected}", result.stderr
