"""The code's layout holds: imports point one way, no script imports a script, importing
changes nothing, and every tool reads the one registry of fills and of detections."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT, imports

# Each package may import those below it, never one above it or beside it unless listed.
LAYERS = {
    "utils": set(),
    "models": {"utils"},
    "scans": {"utils"},
    "filling": {"utils", "models"},
    "detection": {"utils", "models", "scans"},
    "training": {"utils", "models", "scans"},
    "restoration": {"utils", "models", "scans", "filling", "detection"},
    "workbench": {"utils", "models", "scans", "filling", "detection", "restoration"},
}
SCRIPTS = {p.stem for p in ROOT.glob("*.py")}


def test_packages_import_only_the_layers_below_them():
    wrong = []
    for package, allowed in LAYERS.items():
        for path in sorted((ROOT / package).glob("*.py")):
            ours = imports(path) & (set(LAYERS) | SCRIPTS)
            for name in ours - allowed - {package}:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, wrong


def test_no_script_or_test_imports_another():
    """Shared bodies live in modules; a test may run a script in-process, never import a test."""
    scripts = [*ROOT.glob("*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("docs/*.py")]
    tests = {p.stem for p in ROOT.glob("tests/test_*.py")}
    wrong = [f"{p.relative_to(ROOT)} imports {name}" for p in scripts
             for name in imports(p) & SCRIPTS]
    wrong += [f"{p.relative_to(ROOT)} imports {name}" for p in ROOT.glob("tests/*.py")
              for name in imports(p) & tests]
    assert not wrong, wrong


def test_no_folder_holds_most_of_the_code():
    lines = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or parts[0] in ("tests", "bench", "docs"):
            continue
        folder = parts[0] if len(parts) > 1 else "(scripts)"
        lines[folder] = lines.get(folder, 0) + len(path.read_text().splitlines())
    total = sum(lines.values())
    assert max(lines.values()) <= 0.4 * total, lines


def test_importing_a_tool_starts_nothing():
    """No script or package sets TensorFlow's environment or loads TensorFlow on import, nor
    does a train script's parse_args (utils/distribute.py gives its options): an entry point's
    cli.run does, once it runs (restore.py's main process with --jobs never loads it)."""
    ours = ("TF_ENABLE_ONEDNN_OPTS", "TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "TF_CPP_MIN_LOG_LEVEL",
            "KERAS_BACKEND")
    modules = sorted(SCRIPTS) + [f"utils.{p.stem}" for p in sorted((ROOT / "utils").glob("*.py"))
                                 if p.stem != "__init__"]
    modules += ["scans.saving", "filling.fill", "detection.detect", "training.recipes"]
    code = ("import importlib, os, sys\n"
            f"for name in {modules!r}:\n"
            "    module = importlib.import_module(name)\n"
            "    if name.startswith('train_'):\n"
            "        module.parse_args([])\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
            f"assert not any(name in os.environ for name in {ours!r})\n"
            "assert not any('Quiet' in type(f).__name__ for f in sys.meta_path)\n"
            "print('clean')")
    env = {k: v for k, v in os.environ.items() if k not in ours}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "clean", result.stderr


def test_every_tool_offers_the_registrys_methods(capsys):
    from detection import registry as detections
    from filling import registry as fills

    def help_of(script):
        with pytest.raises(SystemExit):
            __import__(script).parse_args(["--help"])
        return capsys.readouterr().out

    for script in ("restore", "evaluate"):
        text = help_of(script)
        assert all(name in text for name in fills.METHODS), script
    assert all(name in help_of("pixel_diff") for name in fills.CLASSICAL)
    for script in ("restore", "app"):
        text = help_of(script)
        assert all(name in text for name in detections.DETECTIONS), script
    assert set(fills.CLASSICAL) < set(fills.METHODS)
    assert all(fills.get(name).name == name for name in fills.METHODS)
    with pytest.raises(ValueError):
        fills.get("no-such-method")


def test_a_new_fill_method_is_one_entry(monkeypatch):
    """A method added to the registry alone is used by fill() at full resolution."""
    import numpy as np

    from filling import registry as fills
    from filling.fill import fill
    entry = fills.Fill("grey", "flat grey, for this test", "classical",
                       lambda image, mask: np.full_like(image, 0.5))
    monkeypatch.setitem(fills.FILLS, "grey", entry)
    pixels = np.zeros((40, 60, 3), np.uint16)
    mask = np.zeros((40, 60), np.uint8)
    mask[10:20, 10:30] = 1
    fill(pixels, mask, "grey")
    assert (pixels[mask > 0] == 32768).all() and (pixels[mask == 0] == 0).all()
