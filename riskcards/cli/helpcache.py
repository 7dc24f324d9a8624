"""`--help` on the fast path: typer's own help text, kept once it has been drawn, and printed from there.

Drawing help means importing typer and rich and building every command: 190-270 ms as a whole process, against
about 60 ms for a query. The text is a pure function of the code and of what the terminal is, so the first
`riskcards ... --help` draws it with typer (the text is typer's, byte for byte, by construction) while a tee
keeps a copy, and stores it under a key made of everything the drawing depends on:

- the program name as started (click shows it in the usage line) and the argument list (`query --help`, `-h`,
  `assess run --help`: command words followed by the help option);
- the riskcards sources (path, size and modification time of every .py file in the package: an edit or a new
  exporter, adapter or transport changes it) and the installed typer, rich and click;
- the Python that runs, whether standard input, output and error are terminals and how wide, and the
  environment (colours, COLUMNS, TERM, locale ...), less the variables that change from one shell prompt to the
  next (PWD, OLDPWD, SHLVL, _).

Later runs with the same key print the stored text and exit, without importing typer. Anything unusual (an
unreadable or damaged entry, a read-only cache folder, a help run that fails) falls back to typer, which is
always right. Entries live in ``$RISKCARDS_CACHE`` or ``$XDG_CACHE_HOME/riskcards`` (``~/.cache/riskcards``),
in ``help/``; ``RISKCARDS_HELP_CACHE=0`` turns the cache off. Stale entries are never read (their key cannot
come again); when the folder holds more than KEEP entries, storing one removes the oldest beyond KEEP // 2.
Deleting the folder is always safe.
"""

import os
import sys

HELP = ("--help", "-h")
VOLATILE = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})
# Installed packages whose code draws the help (stamped by their __init__.py).
DRAWERS = ("typer", "rich", "click")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEEP = 256  # entries in the folder before the oldest are removed (each is a few kB)


def wants_help(argv: list[str]) -> bool:
    """Command words (no option among them) followed by -h/--help and nothing else."""
    return (
        len(argv) >= 1
        and argv[-1] in HELP
        and all(a and not a.startswith("-") and a.replace("-", "").isalnum() for a in argv[:-1])
        and os.environ.get("RISKCARDS_HELP_CACHE", "1") != "0"
    )


def cache_dir() -> str:
    base = os.environ.get("RISKCARDS_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "riskcards")
    return os.path.join(base, "help")


def _sources() -> list[tuple[str, int | None, int | None]]:
    stamps: list[tuple[str, int | None, int | None]] = []
    for folder, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                stamps.append((os.path.relpath(os.path.join(folder, name), _PACKAGE), st.st_size, st.st_mtime_ns))
    for pkg in DRAWERS:
        for entry in sys.path:
            init = os.path.join(entry or ".", pkg, "__init__.py")
            try:
                st = os.stat(init)
            except OSError:
                continue
            stamps.append((init, st.st_size, st.st_mtime_ns))
            break
        else:
            stamps.append((pkg, None, None))
    return stamps


def _terminal() -> list[tuple]:
    seen = []
    for fd in (0, 1, 2):
        try:
            tty = os.isatty(fd)
        except OSError:
            tty = None
        try:
            size = tuple(os.get_terminal_size(fd))
        except (OSError, ValueError):
            size = None
        seen.append((fd, tty, size))
    return seen


def key(argv: list[str]) -> str:
    import hashlib

    env = sorted((k, v) for k, v in os.environ.items() if k not in VOLATILE)
    parts = (sys.argv[0], argv, sys.executable, sys.version, _sources(), _terminal(), env)
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _entry(digest: str) -> str:
    return os.path.join(cache_dir(), f"{digest}.txt")


def serve(digest: str) -> bool:
    """Print the help stored under ``digest`` (``key(argv)``) and return True, or return False (nothing printed)
    when there is none."""
    try:
        with open(_entry(digest), encoding="utf-8", newline="") as fh:
            header, _, body = fh.read().partition("\n")
    except (OSError, UnicodeDecodeError):
        return False
    if header != f"riskcards-help {len(body)}":  # damaged or cut short: draw it again
        return False
    sys.stdout.write(body)
    sys.stdout.flush()
    return True


class _Tee:
    """Standard output as rich sees it (a terminal or not, its width), keeping a copy of what is written."""

    def __init__(self, out) -> None:
        self._out = out
        self.parts: list[str] = []
        self.bypassed = False  # something wrote around the copy (bytes to .buffer): keep nothing

    def write(self, text: str) -> int:
        written = self._out.write(text)  # first: a probe writing b"" fails here as on the real stream
        self.parts.append(text)
        return written

    @property
    def buffer(self):
        self.bypassed = True
        return self._out.buffer

    def __getattr__(self, name: str):
        return getattr(self._out, name)


def draw_and_keep(digest: str, run) -> None:
    """Run typer (``run()``) with a tee on standard output; when it exits 0 having written only to standard
    output, store the text under ``digest`` (``key(argv)``). Exits as typer does."""
    tee, err = _Tee(sys.stdout), _Tee(sys.stderr)
    sys.stdout, sys.stderr = tee, err
    code: str | int | None = 0
    try:
        run()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdout, sys.stderr = tee._out, err._out
    if code in (0, None) and tee.parts and not err.parts and not (tee.bypassed or err.bypassed):
        _store(digest, "".join(tee.parts))
    sys.exit(code)


def _store(digest: str, body: str) -> None:
    path = _entry(digest)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(f"riskcards-help {len(body)}\n{body}")
        os.replace(tmp, path)  # whole or not at all, also with several processes at once
        _prune(os.path.dirname(path))
    except OSError:  # a read-only or full cache folder: the help was printed all the same
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _prune(folder: str) -> None:
    """Past KEEP entries (stale ones pile up as the code or the terminal changes), remove the oldest."""
    with os.scandir(folder) as it:
        entries = [e for e in it if e.name.endswith(".txt")]
    if len(entries) <= KEEP:
        return
    import contextlib

    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for e in entries[: len(entries) - KEEP // 2]:
        with contextlib.suppress(OSError):  # another process removed it first
            os.unlink(e.path)
