"""Files and folders written whole: the one home of the temporary-path-then-rename pattern, so
that a crash or a failing write never leaves a half file or replaces good data with a partial
one. Standard library only: the Lambdas and the Glue job import it too."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def replace_whole(target: Path, write: Callable[[Path], None]) -> None:
    """Write ``target`` (a file or a folder) whole: ``write`` makes it at a hidden temporary
    path beside it, which then takes its place (``os.replace``, atomic on POSIX for a file; an
    existing folder is moved aside first, and back if the swap fails). If ``write`` fails, the
    earlier ``target`` is untouched and the temporary path removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    retired = target.with_name(f".{target.name}.{os.getpid()}.old")
    try:
        write(temporary)
        if temporary.is_dir() and target.exists():
            os.replace(target, retired)  # a folder cannot be renamed over a full one
        try:
            os.replace(temporary, target)
        except OSError:
            if retired.exists():
                os.replace(retired, target)  # the earlier folder back in place
            raise
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)


def write_text_whole(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole (:func:`replace_whole`)."""
    replace_whole(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
