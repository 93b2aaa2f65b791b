"""Ctrl-C during a build: one line saying what became of the output, exit 130, and the output
folder really unchanged (or, once swapped in, written in full)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compiler.cli import app
from tests.support import ROOT

WRAPPER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from compiler import cli, outputs, pipeline
    module, name = sys.argv[1].split(":")
    owner = {{"outputs": outputs, "pipeline": pipeline}}[module]
    real = getattr(owner, name)
    def slow(*args, **kwargs):
        print("reached", flush=True)
        for _ in range(600):  # until Ctrl-C is raised here, or noted for later (detc defers it)
            if cli._SIGINT["seen"]:
                break
            time.sleep(0.05)
        return real(*args, **kwargs)
    setattr(owner, name, slow)
    sys.argv = ["detc", *sys.argv[2:]]
    from compiler.cli import main
    main()
    """
)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("hook", "outcome"),
    [
        ("pipeline:make_batch", "unchanged"),  # while rules compile
        ("outputs:_flush_to_disk", "unchanged"),  # with the new tree staged, before the swap
        ("outputs:_learn", "written in full"),  # after the swap
    ],
    ids=["compiling", "staged", "swapped"],
)
def test_sigint_says_what_became_of_the_output(tmp_path: Path, monkeypatch, hook: str, outcome: str):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", "--rules", str(ROOT / "sigma"), "--output", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    (out / "extra.txt").write_text("a file the next build removes\n")
    before = snapshot(out)
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER.format(root=str(ROOT)))
    proc = subprocess.Popen(
        [sys.executable, str(script), hook, "build", "--rules", str(ROOT / "sigma"), "--output", str(out), "--no-cache"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "reached"
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr == f"interrupted; {out} {outcome}\n"
    after = snapshot(out)
    if outcome == "unchanged":
        assert after == before
    else:
        assert "extra.txt" not in after and after == {k: v for k, v in before.items() if k != "extra.txt"}
    assert [p.name for p in tmp_path.iterdir() if ".detc-" in p.name] == []
