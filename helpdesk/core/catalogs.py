"""Compiled message catalogs (.mo) built from the .po files under the locale folders.

Git keeps only the .po files; every place that runs the code builds the .mo files first (`manage.py
demo`, the test session, the Docker image). polib does it in Python, so a machine without GNU
gettext's msgfmt still gets its translations.
"""

import os
from collections.abc import Iterable
from pathlib import Path

import polib


def catalogs_compile(*, locale_dirs: Iterable[Path]) -> list[Path]:
    """Write the .mo beside each .po that is newer than it; return the .mo files written.

    Each is written to a temporary name and renamed into place, so a process that starts while
    another compiles reads the old catalog or the new one, never half of one.
    """
    written = []
    for locale_dir in locale_dirs:
        for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            temporary = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.tmp")
            polib.pofile(str(po_path)).save_as_mofile(str(temporary))
            os.replace(temporary, mo_path)
            written.append(mo_path)
    return written
