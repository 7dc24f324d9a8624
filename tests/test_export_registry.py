"""The exporter registry: a format is one module under riskcards/exporters/, and that module alone makes it
appear in `riskcards export --format`, in `riskcards build`'s dumps and on the site's downloads page."""

from __future__ import annotations

import os
import stat
import sys
import zipfile
from pathlib import Path

from sitekit import make_site_kb, run

from riskcards import exporters

DUMMY = """
from riskcards import query as Q
from riskcards.exporters import Rendered, register


@register("dummyfmt", help="dummyfmt (card ids, one a line)", description="Card ids, one a line (test format).",
          download="riskcards.dummy.txt", unit="ids")
def render(conn, ids=None, query=None):
    cards = Q.cards_full(conn, ids)
    return Rendered(len(cards), text="".join("DUMMY " + c["id"] + "\\n" for c in cards))
"""

# Runs the CLI with one extra folder on the exporters package's path: the new module is found exactly as a
# file added to riskcards/exporters/ would be (pkgutil over the package path).
RUNNER = """
import sys
import riskcards.exporters as E
E.__path__.append(sys.argv.pop(1))
from riskcards.cli import main
sys.argv[0] = "riskcards"
main()
"""


def page(root: Path, url: str) -> str:
    return (root / "public" / url / "index.html").read_text(encoding="utf-8")


def _cli(extra: Path, root: Path, *args: str):
    return run(["-c", RUNNER, str(extra), *args], cwd=root)


def test_a_new_format_module_appears_in_the_cli_the_build_and_the_downloads_page(tmp_path):
    extra = tmp_path / "more_exporters"
    extra.mkdir()
    (extra / "dummyfmt.py").write_text(DUMMY)
    root = make_site_kb(tmp_path / "kb")

    helptext = _cli(extra, root, "export", "--help")
    assert helptext.returncode == 0, helptext.stderr
    assert "dummyfmt" in helptext.stdout

    out = _cli(extra, root, "export", "--format", "dummyfmt", "--root", str(root))
    assert out.returncode == 0, out.stderr
    assert "DUMMY confident-wrong-dosage-advice" in out.stdout.splitlines()

    built = _cli(extra, root, "build", "--root", str(root))
    assert built.returncode == 0, built.stdout + built.stderr
    assert "riskcards.dummy.txt" in built.stdout
    assert (root / "build" / "riskcards.dummy.txt").read_text().startswith("DUMMY ")
    assert (root / "public" / "riskcards.dummy.txt").read_text() == (root / "build" / "riskcards.dummy.txt").read_text()
    downloads = page(root, "downloads")
    assert "riskcards.dummy.txt" in downloads and "Card ids, one a line (test format)." in downloads

    # without the module, the format is nowhere
    plain = run(["-m", "riskcards", "export", "--format", "dummyfmt", "--root", str(root)], cwd=root)
    assert plain.returncode == 2 and "dummyfmt" in plain.stderr


def test_every_registered_format_renders_and_the_dumps_are_readable_by_others(tmp_path):
    root = make_site_kb(tmp_path / "kb", hostile=False)
    built = run(["-m", "riskcards", "build", "--root", str(root), "--no-site"], cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    names = exporters.names()
    assert names[:3] == ["json", "jsonl", "csv"]
    old = os.umask(0o022)
    try:
        for name, what in exporters.downloads().items():
            path = root / "build" / name
            assert path.is_file(), name
            assert what
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o044 == 0o044, f"{name} is {oct(mode)}"
            if name.endswith(".zip"):
                assert zipfile.ZipFile(path).namelist()
    finally:
        os.umask(old)
    meta = root / "build" / "riskcards.metadata.json"
    assert stat.S_IMODE(meta.stat().st_mode) & 0o044 == 0o044


def test_write_atomic_respects_the_umask(tmp_path):
    from riskcards.paths import write_atomic

    for umask, expected in ((0o027, 0o640), (0o022, 0o644)):
        old = os.umask(umask)
        try:
            write_atomic(tmp_path / "a.txt", "x")
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == expected


def test_a_format_registered_twice_is_refused():
    import pytest

    exporters.formats()
    with pytest.raises(ValueError, match="registered twice"):
        exporters.register("json", help="x")(lambda conn, ids, query: None)
    assert sys.modules["riskcards.exporters.document"].render is exporters.get("json").render
