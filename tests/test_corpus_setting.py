"""The one setting that finds the third-party corpus, and what a test without it does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import CORPUS_MISSING, ROOT, corpus_path, in_ci, require_corpus


def test_default_is_beside_the_repository() -> None:
    assert corpus_path({}) == ROOT / ".." / "shared" / "corpus"
    assert corpus_path({"DETC_CORPUS": ""}) == ROOT / ".." / "shared" / "corpus"


def test_relative_setting_is_taken_from_the_repository_root(tmp_path: Path) -> None:
    assert corpus_path({"DETC_CORPUS": "elsewhere/corpus"}) == ROOT / "elsewhere" / "corpus"
    assert corpus_path({"DETC_CORPUS": str(tmp_path)}) == tmp_path


def test_present_corpus_is_returned(tmp_path: Path) -> None:
    assert require_corpus({"DETC_CORPUS": str(tmp_path), "CI": "true"}) == tmp_path


def test_missing_corpus_skips_with_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_corpus({"DETC_CORPUS": str(tmp_path / "absent")})
    assert skipped.value.msg == CORPUS_MISSING
    assert "tools/fetch-corpus" in CORPUS_MISSING and "DETC_CORPUS" in CORPUS_MISSING


@pytest.mark.parametrize("ci", ["true", "True", "1"], ids=str)
def test_missing_corpus_fails_under_ci(tmp_path: Path, ci: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="CI runs every test"):
        require_corpus({"DETC_CORPUS": str(tmp_path / "absent"), "CI": ci})


@pytest.mark.parametrize("ci", ["", "false", "0"], ids=["empty", "false", "zero"])
def test_ci_off(ci: str) -> None:
    assert not in_ci({"CI": ci})
