"""Crash-safe files: temporaries that only this process uses, writes that appear whole or not at
all, sets of files renamed into place together under a folder lock with a journal, and the
clean-up of what a killed process left. Every tool that writes (restore.py, pixel_diff.py, the
workbench, evaluate.py, the train scripts) writes through these."""
import fcntl
import hashlib
import json
import os
from pathlib import Path

from utils.errors import UserError

PARTIAL = ".partial-"
JOURNAL = ".journal.json"


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


def sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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


def alive(pid):
    """Whether a process with this id is running (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def writer_pid(path):
    """The process id in a temporary file's name (PARTIAL + pid + ...), or None."""
    try:
        return int(Path(path).name[len(PARTIAL):].split("-", 1)[0])
    except ValueError:
        return None


class folder_lock:
    """An exclusive lock on the folder itself (flock on its directory; no file is left behind),
    held while a set of files is renamed into place, so that two runs writing one folder never
    interleave their sets."""

    def __init__(self, folder):
        self.folder = folder

    def __enter__(self):
        self.fd = os.open(self.folder, os.O_RDONLY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *error):
        os.close(self.fd)  # closing the descriptor releases the lock


def commit_set(moves):
    """Rename each temporary file to its place [(temporary, final)], as one set: under the
    folder's lock, with a journal written first, so that a kill in the middle leaves a journal
    the next run completes (recover_journals): the set is then whole, the old one or the new."""
    folder = Path(moves[-1][1]).parent
    journal = partial_name(folder / f"{Path(moves[-1][1]).stem}{JOURNAL}")
    with folder_lock(folder):
        journal.write_text(json.dumps([[str(a), str(b)] for a, b in moves]))
        for temporary, final in moves:
            os.replace(temporary, final)
        journal.unlink()


def recover_journals(folder):
    """Complete the set commits that killed processes left in folder (see commit_set)."""
    journals = [j for j in Path(folder).glob(f"{PARTIAL}*{JOURNAL}")
                if writer_pid(j) is not None and not alive(writer_pid(j))]
    if not journals:
        return
    with folder_lock(folder):
        for journal in journals:
            try:
                moves = json.loads(journal.read_text())
            except (OSError, ValueError):
                moves = []  # written before any rename: nothing was moved
            for temporary, final in moves:
                if Path(temporary).exists():
                    os.replace(temporary, final)
            journal.unlink(missing_ok=True)


def remove_stale_partials(folder):
    """What killed runs left in folder: their unfinished set commits are completed (see
    commit_set's journal) and their temporary files removed. Only files of processes that are
    no longer running: a run writing into the same folder right now keeps its own."""
    folder = Path(folder)
    recover_journals(folder)
    for stale in folder.glob(PARTIAL + "*"):
        pid = writer_pid(stale)
        if stale.is_file() and pid is not None and pid != os.getpid() and not alive(pid):
            stale.unlink(missing_ok=True)
