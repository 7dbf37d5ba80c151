"""Crash-safe files: temporaries that only this process uses, writes that appear whole or not at
all, sets of files renamed into place together under a folder lock with a journal, and the
clean-up of what a killed process left. Every tool that writes (restore.py, pixel_diff.py, the
workbench, evaluate.py, the train scripts) writes through these.

Nothing someone else planted in a folder is followed or trusted. Temporaries, probes and journals
are created exclusively (O_EXCL) without following links (O_NOFOLLOW), under names carrying a
random token of the process that made them. A process that may leave temporaries in a folder
holds an exclusive lock on its own `.partial-<token>.lock` there while it writes: a temporary is
stale only when no one holds its token's lock (the process is dead, whatever its pid now names;
pids repeat, in containers always). A journal is honoured only when it is well formed, names
its own token, and moves this token's regular temporaries of that folder onto the names they
were made for, each one the calling tool's own output name.
"""
import errno
import fcntl
import hashlib
import json
import os
import stat
import threading
from pathlib import Path

from utils.errors import UserError

PARTIAL = ".partial-"
JOURNAL = ".journal.json"
LOCK = ".lock"
_NEW = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


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


# --- this process's token and its presence in a folder ---------------------------------------

_state = {"pid": None, "token": None}
_presence = {}  # resolved folder -> [lock file descriptor, holders]
_presence_lock = threading.Lock()


def token():
    """This process's random token (a new one in a forked child)."""
    if _state["pid"] != os.getpid():
        _state.update(pid=os.getpid(), token=os.urandom(8).hex())
        _presence.clear()  # a child holds none of its parent's locks' meaning
    return _state["token"]


class writing:
    """This process's presence in folder while it may leave temporaries there: an exclusive
    lock on folder/.partial-<token>.lock, made exclusively, removed when the last writer of this
    process leaves (a killed process's is found stale by the next run: no one holds it)."""

    def __init__(self, folder):
        self.folder = Path(folder).resolve()

    def __enter__(self):
        mine = token()
        with _presence_lock:
            held = _presence.get(self.folder)
            if held is None:
                path = self.folder / f"{PARTIAL}{mine}{LOCK}"
                fd = os.open(path, os.O_RDWR | _NEW, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                held = _presence[self.folder] = [fd, 0]
            held[1] += 1
        return self

    def __exit__(self, *error):
        with _presence_lock:
            held = _presence.get(self.folder)
            if held is None:
                return
            held[1] -= 1
            if held[1] == 0:
                del _presence[self.folder]
                Path(self.folder / f"{PARTIAL}{token()}{LOCK}").unlink(missing_ok=True)
                os.close(held[0])


def _token_of(name):
    """The token in a temporary's, journal's or lock's name (PARTIAL + token + ...), or None."""
    if not name.startswith(PARTIAL):
        return None
    rest = name[len(PARTIAL):]
    return rest.split("-", 1)[0].removesuffix(LOCK) or None


def _held(folder, owner):
    """Whether a live process holds owner's lock in folder."""
    try:
        fd = os.open(Path(folder) / f"{PARTIAL}{owner}{LOCK}",
                     os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False  # none (or a planted link): no one is writing under that token
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def partial_name(path):
    """A new temporary beside path that only this process uses, made empty and exclusively (a
    link planted under its name is never followed): PARTIAL, this process's token, a random
    part, the name. Call it inside `writing(path's folder)`, which keeps the temporary from
    being taken for a killed process's."""
    path = Path(path)
    while True:
        partial = path.with_name(f"{PARTIAL}{token()}-{os.urandom(4).hex()}-{path.name}")
        try:  # the permissions any new file gets (the umask decides)
            os.close(os.open(partial, os.O_WRONLY | _NEW, 0o666))
            return partial
        except FileExistsError:
            continue


def writable_folder(folder):
    """Make folder (and its parents) and check that a file can be written there; a UserError
    otherwise, before any work is done. The probe is made exclusively, never through a link."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"the output folder {folder} is a file: give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"{PARTIAL}{token()}-{os.urandom(4).hex()}-write-test"
        os.close(os.open(probe, os.O_WRONLY | _NEW, 0o600))
        probe.unlink()
    except OSError as error:
        raise UserError(f"cannot write to the output folder {folder} "
                        f"({error.strerror or error})")
    return folder


def write_atomically(path, write):
    """write(temporary path), then rename it to path: an interrupted or failed write leaves no
    half-written file, and a failed one leaves no temporary file either. A link at path is
    replaced, never written through."""
    path = Path(path)
    with writing(path.parent):
        partial = partial_name(path)
        try:
            write(partial)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise


def write_text(path, text):
    write_atomically(path, lambda p: Path(p).write_text(text))


class folder_lock:
    """An exclusive lock on the folder itself (flock on its directory; no file is left behind),
    held while a set of files is renamed into place, so that two runs writing one folder never
    interleave their sets."""

    def __init__(self, folder):
        self.folder = Path(folder).resolve()

    def __enter__(self):
        self.fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *error):
        os.close(self.fd)  # closing the descriptor releases the lock


def commit_set(moves, check=None):
    """Rename each temporary file to its place [(temporary, final)], as one set, all in one
    folder: under the folder's lock, where check() (if given) proves again that every file the
    set replaces may be replaced, with a journal written first, so that a kill in the middle
    leaves a journal the next run completes (recover_journals): the set is then whole, the old
    one or the new."""
    folder = Path(moves[-1][1]).parent.resolve()
    moves = [(Path(a).parent.resolve() / Path(a).name, folder / Path(b).name) for a, b in moves]
    with writing(folder):
        journal = partial_name(folder / f"{moves[-1][1].stem}{JOURNAL}")
        begun = False
        try:
            with folder_lock(folder):
                if check is not None:
                    check()
                with open(os.open(journal, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW), "w") as f:
                    json.dump({"token": token(), "moves": [[str(a), str(b)] for a, b in moves]},
                              f)
                begun = True
                for temporary, final in moves:
                    os.replace(temporary, final)
        except BaseException as error:
            if begun:  # some renames may be done: the journal and the temporaries stay for the
                error.journal = journal  # next run to complete the set (recover_journals)
            else:
                journal.unlink(missing_ok=True)
            raise
        journal.unlink()


def _moves(journal, folder, owner, allowed):
    """(the moves of a journal that may be honoured, or None; whether it is another tool's).
    Honoured: a JSON object naming owner as its token, each move a regular temporary of owner's
    in folder (or already moved) onto the name in folder it was made for. A journal whose names
    allowed(name) does not accept is another tool's, left for it (a restore.py and an
    evaluate.py run may share a folder)."""
    try:
        fd = os.open(journal, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with open(fd) as handle:
            data = json.loads(handle.read(1 << 20))
    except (OSError, ValueError):
        return None, False
    moves = data.get("moves") if isinstance(data, dict) else None
    if data.get("token") != owner if isinstance(data, dict) else True:
        return None, False
    if not isinstance(moves, list) or not moves:
        return None, False
    checked, prefix = [], f"{PARTIAL}{owner}-"
    for move in moves:
        if not (isinstance(move, list) and len(move) == 2
                and all(isinstance(name, str) for name in move)):
            return None, False
        temporary, final = Path(move[0]), Path(move[1])
        if not (temporary.is_absolute() and final.is_absolute()
                and temporary.parent == folder and final.parent == folder
                and temporary.name.startswith(prefix)
                and temporary.name[len(prefix):].split("-", 1)[-1] == final.name
                and not final.name.startswith(PARTIAL)):
            return None, False
        if os.path.lexists(temporary):
            status = os.lstat(temporary)
            if not (stat.S_ISREG(status.st_mode) and status.st_uid == os.getuid()):
                return None, False
        checked.append((temporary, final))
    if not all(allowed(final.name) for _, final in checked):
        return None, True
    return checked, False


def recover_journals(folder, allowed=lambda name: True):
    """Complete the set commits that killed (or failed) processes left in folder (see
    commit_set): under the folder's lock no commit is under way, so any journal there is a
    stopped one's. A journal that fails _moves' checks moves nothing and is removed; another
    tool's (its names not allowed) is left for that tool."""
    folder = Path(folder).resolve()
    journals = list(folder.glob(f"{PARTIAL}*{JOURNAL}"))
    if not journals:
        return
    with folder_lock(folder):
        for journal in journals:
            moves, foreign = _moves(journal, folder, _token_of(journal.name), allowed)
            if foreign:
                continue
            for temporary, final in moves or ():
                if os.path.lexists(temporary):
                    os.replace(temporary, final)
            journal.unlink(missing_ok=True)


def remove_stale_partials(folder, allowed=lambda name: True):
    """What killed runs left in folder: their unfinished set commits are completed (see
    recover_journals; allowed: the output names a journal may move onto) and their temporaries,
    locks and links removed. Only those of processes that hold no lock there any more: a run
    writing into the same folder right now keeps its own."""
    folder = Path(folder)
    recover_journals(folder, allowed)
    live = {}
    for entry in os.scandir(folder):
        owner = _token_of(entry.name)
        if owner is None or owner == token():
            continue
        if owner not in live:
            live[owner] = _held(folder, owner)
        if not live[owner] and not entry.is_dir(follow_symlinks=False):
            try:
                os.unlink(entry.path)  # a link itself, never what it points to
            except FileNotFoundError:
                pass
            except OSError as error:
                if error.errno not in (errno.EPERM, errno.EACCES):
                    raise
