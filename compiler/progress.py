"""The build's progress bar: on a terminal for long builds, nothing in CI or when piped."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress

MINIMUM = 200
"""Rules to compile below which a bar is not worth drawing."""


class ProgressBar:
    """``start(total)`` is the callback factory ``run_builds`` takes (None: no bar); leaving the
    ``with`` block stops a bar that was started, also when the build fails."""

    def __init__(self, stream: IO[str] | None = None, environ: Mapping[str, str] = os.environ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.environ = environ
        self.bar: Progress | None = None

    def wanted(self, total: int) -> bool:
        return total >= MINIMUM and self.stream.isatty() and not self.environ.get("CI")

    def start(self, total: int) -> Callable[[int], None] | None:
        if not self.wanted(total):
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.stop()
        self.bar = Progress(
            TextColumn("compiling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(file=self.stream), transient=True,
        )
        task = self.bar.add_task("compile", total=total)
        self.bar.start()
        bar = self.bar
        return lambda n: bar.advance(task, n)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
