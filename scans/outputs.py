"""Writing outputs without ever harming an input: collision checks before anything is written,
files that appear whole or not at all, a record of how each file was made.
"""
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from utils.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
PARTIAL = ".partial-"


def same_file(a, b):
    """Whether two paths name one file: the same after resolving links and '..', or the same
    inode (a hard link)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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


def writable_folder(folder):
    """Make folder (and its parents) and check that a file can be written there; a UserError
    otherwise, before any work is done."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"the output folder {folder} is a file: give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"{PARTIAL}{os.getpid()}-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UserError(f"cannot write to the output folder {folder} "
                        f"({error.strerror or error})")
    return folder


def partial_name(path):
    """A temporary name beside path that only this process uses: PARTIAL, its process id, a
    random token, the name."""
    path = Path(path)
    return path.with_name(f"{PARTIAL}{os.getpid()}-{os.urandom(4).hex()}-{path.name}")


def write_atomically(path, write):
    """write(temporary path), then rename it to path: an interrupted or failed write leaves no
    half-written file, and a failed one leaves no temporary file either."""
    path = Path(path)
    partial = partial_name(path)
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_text(path, text):
    write_atomically(path, lambda p: Path(p).write_text(text))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _writer_pid(path):
    """The process id in a temporary file's name (PARTIAL + pid + ...), or None."""
    try:
        return int(path.name[len(PARTIAL):].split("-", 1)[0])
    except ValueError:
        return None


def remove_stale_partials(folder):
    """What killed runs left in folder: their unfinished set commits are completed (see
    scans/saving.py's journal) and their temporary files removed. Only files of processes that
    are no longer running: a run writing into the same folder right now keeps its own."""
    from scans.saving import recover_journals
    folder = Path(folder)
    recover_journals(folder)
    for stale in folder.glob(PARTIAL + "*"):
        pid = _writer_pid(stale)
        if stale.is_file() and pid is not None and pid != os.getpid() and not _alive(pid):
            stale.unlink(missing_ok=True)


def sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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
