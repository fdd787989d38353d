"""Output files: who owns a batch's output, and how any output is written whole and private.

A batch's output is owned by one batch at a time (:func:`claim_output`): it must be a regular
file, or not exist yet, in a folder where a lock file can be made beside it (``.NAME.lock``,
held with ``flock``, so a crash releases it), and it must not be the input. New files are
created private (0600); a file that already exists keeps its mode. Files written whole (a
batch's ledger, ``extract -o``, ``eval -o``, the HTML views) go through :func:`write_file`,
which replaces a file at once so that a crash never leaves half of it.

Every failure is an :class:`~llmextract.errors.InputError` that says what to do, e.g.
"no space left on device writing out.jsonl; free space and rerun to continue".
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from llmextract.errors import InputError

__all__ = [
    "check_output",
    "claim_output",
    "empty_file",
    "replacing",
    "write_all",
    "write_error",
    "write_file",
]

_PRIVATE = 0o600
_SPACE = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}
# Lock files of the outputs this process holds (see claim_output).
_CLAIMED: set[Path] = set()


def check_output(output: Path, source: str | Path | None = None) -> None:
    """Refuse an ``output`` a batch cannot own: a folder, a device or pipe, or the input.

    A batch reads its output back to resume, so it must be a regular file (or not exist
    yet: its folder is checked by making the lock file, see :func:`claim_output`).
    """
    try:
        status = output.stat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise _cannot_create(output, error) from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(
            f"{output} is a folder; give a file path such as {output / 'results.jsonl'}"
        )
    if not stat.S_ISREG(status.st_mode):
        raise InputError(
            f"{output} is not a regular file (a device or pipe); a batch reads its output "
            "back to resume, so give a file path"
        )
    if source is not None and str(source) != "-" and os.path.samefile(source, output):
        raise InputError(f"{output} is the input; give another --output")


@contextmanager
def claim_output(output: Path, source: str | Path | None = None) -> Iterator[None]:
    """Hold ``output`` for this batch: check it (:func:`check_output`), then lock it.

    The lock is ``flock`` on ``.NAME.lock`` beside the output, which holds the owner's pid;
    another process that claims the output meanwhile is refused at once, and a crash
    releases the lock with the process. A claim nested in one of this process only checks.
    """
    check_output(output, source)  # first: "." or "/" has no name to put a lock beside
    lock = Path(os.path.abspath(output.with_name(f".{output.name}.lock")))
    if lock in _CLAIMED:
        yield
        return
    descriptor = _lock(lock, output)
    _CLAIMED.add(lock)
    try:
        yield
    finally:
        _CLAIMED.discard(lock)
        # Removed while still locked; a process that opened it meanwhile sees, once it
        # holds the lock, that the file is no longer at the path (see _lock).
        with suppress(OSError):
            lock.unlink()
        os.close(descriptor)


def _lock(lock: Path, output: Path) -> int:
    """A descriptor of ``lock``, locked: it is only released by closing it, or by exit."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cannot_create(output, error) from None
    while True:
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _PRIVATE)
        except OSError as error:
            raise _cannot_create(output, error) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = os.read(descriptor, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(descriptor)
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise InputError(
                    f"{output}: cannot be locked ({error.strerror}); give a path on a local disk"
                ) from None
            raise InputError(
                f"{output} is being written by another llmextract batch (pid {holder}); "
                "wait for it or give another --output"
            ) from None
        try:
            current = os.path.samestat(os.fstat(descriptor), os.stat(lock))
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(descriptor)  # its last holder removed it: lock the one now at the path
    os.ftruncate(descriptor, 0)
    with suppress(OSError):  # the pid only names the holder in another run's refusal
        os.write(descriptor, f"{os.getpid()}\n".encode())
    return descriptor


def _cannot_create(output: Path, error: OSError) -> InputError:
    return InputError(
        f"{output} cannot be created ({error.strerror}); give a path in a writable folder"
    )


def write_error(path: Path, error: OSError) -> InputError:
    """A failed write, said so that the user knows what to do and that a rerun continues."""
    if error.errno in _SPACE:
        return InputError(f"{_SPACE[error.errno]} writing {path}; free space and rerun to continue")
    return InputError(f"cannot write {path} ({error.strerror}); fix that and rerun to continue")


def write_all(descriptor: int, data: bytes) -> None:
    """``os.write`` until all of ``data`` is written; a full disk raises after a short write."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def empty_file(path: Path) -> None:
    """Make ``path`` an empty file (private when new, its mode kept otherwise)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE))
    except OSError as error:
        raise write_error(path, error) from None


def write_file(path: Path, data: bytes) -> None:
    """Make ``data`` the whole of ``path``, or raise :class:`InputError` saying what to do.

    A regular file (or a new one, and its folder) is replaced at once, so a crash never
    leaves half of it, keeping its mode (0600 when new); a device or pipe (``/dev/null``,
    ``/dev/stdout``) is written in place; a folder is refused.
    """
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file path such as {path / 'out.json'}")
    if path.exists() and not path.is_file():
        try:
            with path.open("wb") as handle:
                handle.write(data)
        except OSError as error:
            raise write_error(path, error) from None
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cannot_create(path, error) from None
    with replacing(path) as target:
        write_all(target, data)


@contextmanager
def replacing(path: Path) -> Iterator[int]:
    """A descriptor to write the new ``path`` to; it replaces ``path`` at the end, with the
    mode ``path`` had (0600 if new). On an error the old file stays and no temporary does.
    Through a link, the file it names is replaced, never the link (``/dev/stdout``)."""
    path = Path(os.path.realpath(path))
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise _cannot_create(path, error) from None
    try:
        with suppress(FileNotFoundError):
            os.fchmod(descriptor, stat.S_IMODE(path.stat().st_mode))
        yield descriptor
        os.fsync(descriptor)
        os.close(descriptor)
        descriptor = -1
        os.replace(temporary, path)
    except BaseException as error:
        if descriptor >= 0:
            os.close(descriptor)
        with suppress(OSError):  # it must not hide the error that got here
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise write_error(path, error) from None
        raise
