"""The review cache trusts a file's status only when it says the bytes are the ones hashed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bepro.catalogue.load import load_catalogue
from bepro.review import engine, ruff_adapter
from bepro.review.cache import CACHE_DIR, COUNTED, FileReview, ResultCache

from .conftest import ROOT

# A clock a day after every file here was written: each file's status counts as settled.
LATER = lambda: 2**62  # noqa: E731 - a constant clock for the cache
DEFAULT = frozenset(
    {"bepro:blocking-call-without-timeout"}
)  # the detectors whose results these are


def _review(path: Path, lines: int) -> FileReview:
    return FileReview(str(path), lines=lines)


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("x = 1\n")
    first = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    assert first.lookup([str(source)]) == ({}, [str(source)])
    first.save([_review(source, 1)])
    before = os.stat(source)

    second = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    found, missing = second.lookup([str(source)])
    assert found[str(source)].lines == 1
    assert missing == []

    source.write_text("y = 2\n")  # same size; the modification time put back, as `cp -p` does
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    third = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    assert third.lookup([str(source)]) == ({}, [str(source)])


def test_counted_files_keep_their_line_count_apart_from_reviews(tmp_path: Path) -> None:
    test_file = tmp_path / "test_app.py"
    test_file.write_text("a = 1\nb = 2\n")
    cache = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    assert cache.lookup([str(test_file)], COUNTED) == ({}, [str(test_file)])
    cache.save([], [_review(test_file, 3)])

    again = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    counted, missing = again.lookup([str(test_file)], COUNTED)
    assert counted[str(test_file)].lines == 3
    assert missing == []
    # reviewed for findings (say with --all-roles), the file is analysed, not taken as counted
    assert again.lookup([str(test_file)]) == ({}, [str(test_file)])

    test_file.write_text("a = 1\n")
    edited = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    assert edited.lookup([str(test_file)], COUNTED) == ({}, [str(test_file)])


def test_a_run_that_changes_nothing_leaves_the_cache_file_alone(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("x = 1\n")
    first = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    first.lookup([str(source)])
    first.save([_review(source, 1)])
    written = first.file.stat().st_mtime_ns
    os.utime(first.file, ns=(written - 10**9, written - 10**9))  # as if written a second ago

    warm = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    found, _ = warm.lookup([str(source)])
    warm.save([])
    assert found[str(source)].lines == 1
    assert first.file.stat().st_mtime_ns == written - 10**9  # not rewritten

    source.write_text("x = 2\n")
    edited = ResultCache(tmp_path / "cache", DEFAULT, clock=LATER)
    assert edited.lookup([str(source)]) == ({}, [str(source)])
    edited.save([_review(source, 1)])
    assert first.file.stat().st_mtime_ns != written - 10**9


def test_results_of_an_older_bepro_are_removed_when_the_cache_is_written(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("x = 1\n")
    folder = tmp_path / "cache"
    folder.mkdir()
    older = folder / "review-0123456789abcdef.json"  # another code key (an upgrade)
    older.write_text("{}")
    other_selection = ResultCache(folder, frozenset({"bepro:random-id"}), clock=LATER)
    other_selection.lookup([str(source)])
    other_selection.save([_review(source, 1)])
    cache = ResultCache(folder, DEFAULT, clock=LATER)
    cache.lookup([str(source)])
    cache.save([_review(source, 1)])
    assert not older.exists()
    assert other_selection.file.exists()  # another selection's results stay
    assert cache.file.exists()


def test_a_warm_review_reuses_ruffs_hits_until_the_ruff_configuration_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ruff's own cache still costs a process and a walk of the tree (0.15 s on an 84k-line
    application, a third of a warm review): unchanged files keep the hits ruff found, until the
    file or the configuration that governs it changes."""
    (tmp_path / "app.py").write_text("import requests\n\nrequests.get('https://x.test')\n")
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    checked: list[list[str]] = []
    real_run = ruff_adapter.run

    def counting_run(paths: list[str], cache_dir: Path | None = None) -> object:
        checked.append(list(paths))
        return real_run(paths, cache_dir)

    monkeypatch.setattr(ruff_adapter, "run", counting_run)
    monkeypatch.chdir(tmp_path)
    catalogue = load_catalogue(ROOT / "SKILL.md")
    options = engine.ReviewOptions(enabled=frozenset({"ruff:S113"}))

    def review() -> list[str]:
        cache = ResultCache(tmp_path / CACHE_DIR, options.detectors(), clock=LATER)
        found = engine.review_files([Path("app.py")], catalogue, options, cache)
        return [finding.source for finding in found.findings]

    assert review() == ["ruff:S113"]
    assert review() == ["ruff:S113"]
    assert checked == [["app.py"]]  # the warm run started no ruff
    (tmp_path / "pyproject.toml").write_text("[tool.ruff.lint]\nignore = ['S113']\n")
    assert review() == []
    assert checked == [["app.py"], ["app.py"]]
