"""compiler.progress: a bar only on a terminal, outside CI, for long builds; stopped on leaving."""

from __future__ import annotations

import io

import pytest

from compiler.progress import MINIMUM, ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "environ", "total", "drawn"),
    [
        (Terminal(), {}, MINIMUM, True),
        (Terminal(), {}, MINIMUM - 1, False),
        (Terminal(), {"CI": "1"}, MINIMUM, False),
        (io.StringIO(), {}, MINIMUM, False),
    ],
    ids=["terminal", "short-build", "ci", "piped"],
)
def test_a_bar_only_where_it_helps(stream: io.StringIO, environ: dict[str, str], total: int, drawn: bool) -> None:
    with ProgressBar(stream, environ) as bar:
        advance = bar.start(total)
        assert (advance is not None) is drawn
        if advance is not None:
            advance(3)
            assert bar.bar is not None and bar.bar.tasks[0].completed == 3
    assert bar.bar is None


def test_the_bar_stops_when_the_build_fails() -> None:
    bar = ProgressBar(Terminal(), {})
    with pytest.raises(RuntimeError), bar:
        assert bar.start(MINIMUM) is not None
        raise RuntimeError("build failed")
    assert bar.bar is None
