"""``manage.py compile_catalogs``: .po files become .mo files Django reads, in pure Python."""

import gettext
import os

import polib
from django.core.management import call_command

from helpdesk.core.catalogs import catalogs_compile


def write_po(path, entries: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog = polib.POFile()
    catalog.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "zh_Hans"}
    for msgid, msgstr in entries.items():
        catalog.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    catalog.save(str(path))


def test_each_po_becomes_a_mo_that_gettext_reads(tmp_path):
    po = tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po"
    write_po(po, {"Send": "发送"})

    written = catalogs_compile(locale_dirs=[tmp_path])

    assert written == [po.with_suffix(".mo")]
    with po.with_suffix(".mo").open("rb") as mo:
        assert gettext.GNUTranslations(mo).gettext("Send") == "发送"


def test_an_up_to_date_mo_is_left_alone_and_an_edited_po_is_compiled_again(tmp_path):
    po = tmp_path / "zh_Hans" / "LC_MESSAGES" / "djangojs.po"
    write_po(po, {"Send": "发送"})
    catalogs_compile(locale_dirs=[tmp_path])

    assert catalogs_compile(locale_dirs=[tmp_path]) == []

    write_po(po, {"Send": "发出"})
    later = po.with_suffix(".mo").stat().st_mtime + 1
    os.utime(po, (later, later))
    assert catalogs_compile(locale_dirs=[tmp_path]) == [po.with_suffix(".mo")]
    with po.with_suffix(".mo").open("rb") as mo:
        assert gettext.GNUTranslations(mo).gettext("Send") == "发出"


def test_no_temporary_file_is_left_behind(tmp_path):
    po = tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po"
    write_po(po, {"Send": "发送"})

    catalogs_compile(locale_dirs=[tmp_path])

    assert sorted(p.name for p in po.parent.iterdir()) == ["django.mo", "django.po"]


def test_the_command_compiles_the_projects_catalogs(settings, tmp_path, capsys):
    write_po(tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po", {"Send": "发送"})
    settings.LOCALE_PATHS = [tmp_path]

    call_command("compile_catalogs")

    assert (tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.mo").exists()
    assert "compiled" in capsys.readouterr().out
