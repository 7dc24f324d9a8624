"""File-system helpers every part shares: the knowledge-base root, atomic writes, paths as shown.

Standard library only, so that the quick query path can use it without loading the rest.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def find_root(start: Path | None = None) -> Path:
    """The knowledge-base root: $RISKCARDS_ROOT, else the nearest folder at or above ``start`` (default:
    the current folder) holding cards/ and taxonomies/, else the nearest holding cards/ (a knowledge base on the
    package's base layer, ``riskcards.baselayer``), else ``start`` itself."""
    env = os.environ.get("RISKCARDS_ROOT")
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "cards").is_dir() and (candidate / "taxonomies").is_dir():
            return candidate
    for candidate in (here, *here.parents):
        if (candidate / "cards").is_dir():
            return candidate
    return here


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: Path | str, data: bytes, mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half of one: a
    temporary file in the same folder, renamed over the target. The file gets ``mode`` less the umask, as
    ``open()`` would give it (not the 0600 of a temporary file), so others can read what the project writes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8, LF line ends) to ``path`` atomically, readable as ``open()`` would make it
    (see ``write_bytes_atomic``)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def shown(path: Path | str) -> str:
    """A path as a person should see it: relative to the current folder when below it, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def install_hint(extra: str) -> str:
    """The command that installs an optional extra into the environment this riskcards runs in: from the
    checkout it was installed from (``python3 make.py build`` installs it editable into .venv), else from
    the package index."""
    import shlex
    import sys

    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return f"{shlex.quote(sys.executable)} -m pip install -e {shlex.quote(f'{checkout}[{extra}]')}"
    return f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(f'riskcards[{extra}]')}"


# Assessments: assessments/<id>/{assessment.yaml, findings/<card>.yaml, log/<card>.jsonl}
ASSESSMENTS = "assessments"
ASSESSMENT_RECORD = "assessment.yaml"


def assessments_root(root: Path) -> Path:
    return Path(root) / ASSESSMENTS


def folder_of(root: Path, ref: str | Path) -> Path:
    """The folder of an assessment given its id (assessments/<id>) or a path to its folder or record."""
    p = Path(ref)
    if p.name == ASSESSMENT_RECORD:
        return p.parent
    if p.is_dir() and (p / ASSESSMENT_RECORD).exists():
        return p
    return assessments_root(root) / str(ref)


def in_knowledge_base(folder: Path) -> bool:
    """Whether an assessment folder lies in a knowledge base's assessments/ (no test-double output there)."""
    folder = Path(folder).resolve()
    return folder.parent.name == ASSESSMENTS and (folder.parent.parent / "cards").is_dir()
