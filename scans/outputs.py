"""Writing outputs without ever harming an input: collision checks before anything is written,
and a record of how each file was made (the crash-safe writing itself is utils/files.py)."""
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from utils.errors import UserError
from utils.files import same_file, sha256

ROOT = Path(__file__).resolve().parent.parent


def check_outputs(outputs, inputs):
    """Stop, before anything is written, if an output would replace an input or a folder."""
    inputs = [Path(p) for p in inputs]
    for out in map(Path, outputs):
        if out.is_dir():
            raise UserError(f"{out} is a folder, and an output file has that name: move it or "
                            f"choose another output folder")
        for given in inputs:
            if same_file(out, given):
                raise UserError(f"writing {out} would overwrite the input {given}: choose "
                                f"another output folder or name (inputs are never written to)")


def project_version():
    """The git commit of this checkout (with '+modified' when it has local changes), or
    'unknown' outside a git checkout."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], text=True,
                                capture_output=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no"], text=True, capture_output=True,
                               timeout=10).stdout.strip()
        return commit + ("+modified" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def record_json(record):
    return json.dumps(record, indent=2, default=str) + "\n"


def input_record(path, scan):
    """What a record says of the painting a file was made from: which file, exactly, and what
    reading it changed."""
    path = Path(path)
    return {"path": str(path.resolve()), "sha256": sha256(path), "bytes": path.stat().st_size,
            "pixels": scan.describe(), "icc_profile": bool(scan.icc),
            "exif": scan.exif is not None, "conversions": scan.notes}


def tool_record(version=None):
    """What a record says of the tool: the project's version, the libraries, the command."""
    import cv2
    import numpy as np
    return {"project_version": version or project_version(), "made": time.strftime(
                "%Y-%m-%dT%H:%M:%S%z"), "python": platform.python_version(),
            "numpy": np.__version__, "opencv": cv2.__version__, "command": " ".join(sys.argv)}
