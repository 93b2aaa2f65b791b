"""``--output`` never replaces what a user owns: only a new, empty or detc-written folder is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compiler.cli import app
from tests.support import ROOT

runner = CliRunner()


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    """A git work tree holding a copy of the rules and the client profiles, as the cwd."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    shutil.copytree(ROOT / "sigma", root / "sigma")
    shutil.copytree(ROOT / "clients", root / "clients")
    (root / "README.md").write_text("mine\n")
    monkeypatch.chdir(root)
    return root


def refused(args: list[str], root: Path, message: str) -> None:
    before = snapshot(root)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr == message + "\n"
    assert snapshot(root) == before
    assert not list(root.rglob(".detc*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--rules", "sigma", "--output", "."],
         "--output .: refusing to write there: it holds the rules folder ({root}/sigma)"),
        (["build", "--rules", "sigma", "--output", "sigma"],
         "--output sigma: refusing to write there: it is the rules folder ({root}/sigma)"),
        (["build", "--rules", "sigma/aws", "--output", "sigma"],
         "--output sigma: refusing to write there: it holds the rules folder ({root}/sigma/aws)"),
        (["build", "--output", "clients"],
         "--output clients: refusing to write there: it is the clients folder ({root}/clients)"),
        (["build", "--output", "README.md"], "--output README.md: not a folder (refusing to replace a file)"),
        (["build", "--client", "acme", "--output", "."],
         "--output .: refusing to write there: it holds the rules folder ({root}/sigma)"),
        (["package", "--client", "acme", "--output", "."],
         "--output .: refusing to write there: it holds the rules folder ({root}/sigma)"),
        (["package", "--client", "acme", "--output", "README.md"],
         "--output README.md: not a folder (refusing to replace a file)"),
    ],
    ids=["dot", "rules-is-output", "output-holds-rules", "clients", "file", "client-dot", "package-dot",
         "package-file"],
)
def test_output_holding_what_the_user_owns_is_refused(repo: Path, args: list[str], message: str):
    refused(args, repo, message.format(root=repo))


def test_the_repository_root_is_refused_even_without_rules_in_it(repo: Path, tmp_path: Path, monkeypatch):
    rules = tmp_path / "elsewhere"
    shutil.move(str(repo / "sigma"), rules)
    shutil.rmtree(repo / "clients")
    refused(["build", "--rules", str(rules), "--output", "."], repo,
            f"--output .: refusing to write there: it is the repository root ({repo})")
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    refused(["build", "--rules", str(rules), "--output", ".."], repo / "sub",
            f"--output ..: refusing to write there: it is the repository root ({repo})")


def test_another_repository_is_refused(repo: Path, tmp_path: Path):
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    refused(["build", "--output", str(other)], tmp_path,
            f"--output {other}: refusing to write there: it holds a repository (.git)")


@pytest.mark.parametrize(
    "manifest", [None, '{"previous": "build"}\n', "not json\n"], ids=["no-manifest", "foreign-json", "not-json"]
)
def test_a_folder_detc_did_not_write_is_refused(repo: Path, manifest: str | None):
    out = repo / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n")
    if manifest is not None:
        (out / "manifest.json").write_text(manifest)
    refused(["build", "--output", "mine"], repo,
            "--output mine: refusing to write there: the folder is not empty and holds no detc manifest.json "
            "(give a new or empty folder, or one detc wrote)")


def test_a_client_folder_detc_did_not_write_is_refused(repo: Path):
    (repo / "out" / "clients" / "acme").mkdir(parents=True)
    (repo / "out" / "clients" / "acme" / "notes.txt").write_text("keep me\n")
    refused(["build", "--client", "acme", "--output", "out"], repo,
            "--output out/clients/acme: refusing to write there: the folder is not empty and holds no detc "
            "manifest.json (give a new or empty folder, or one detc wrote)")


def test_a_package_folder_detc_did_not_write_is_refused(repo: Path):
    (repo / "dist").mkdir()
    (repo / "dist" / "acme.tar.gz").write_bytes(b"someone else's")
    refused(["package", "--client", "acme", "--output", "dist"], repo,
            "--output dist: refusing to write there: the folder is not empty and holds no detc NAME.package.json "
            "(give a new or empty folder, or one detc wrote)")


def test_new_empty_and_detc_folders_are_written(repo: Path):
    (repo / "empty").mkdir()
    for out in ("new", "empty", "new"):  # the second build of "new" replaces detc's own folder
        result = runner.invoke(app, ["build", "--output", out, "--no-cache"])
        assert result.exit_code == 0, result.output
        assert (repo / out / "manifest.json").read_bytes().startswith(b'{\n  "detc_version": ')
    for _ in range(2):
        result = runner.invoke(app, ["package", "--client", "acme", "--output", "dist"])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (repo / "dist").iterdir()) == ["acme.package.json", "acme.tar.gz"]


RULE = "sigma/aws/kms/aws_kms_imported_key_material_deleted.yml"
NOT_OURS = "refusing to replace a file that is not a detc {kind} report (give a new file name, or move the file away first)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["test", "-t", "sigma", "--json", "README.md"], "--json README.md: " + NOT_OURS.format(kind="test results")),
        (["test", "-t", "sigma", "--junit", RULE], f"--junit {RULE}: " + NOT_OURS.format(kind="JUnit")),
        (["test", "-t", "sigma", "--json", "sigma"], "--json sigma: not a regular file (refusing to replace it)"),
        (["build", "--report", "-t", "sigma", "--report-json", "README.md"],
         "--report-json README.md: " + NOT_OURS.format(kind="support matrix")),
    ],
    ids=["json-over-readme", "junit-over-a-rule", "json-over-a-folder", "report-json-over-readme"],
)
def test_reports_never_replace_what_the_user_owns(repo: Path, args: list[str], message: str):
    refused(args, repo, message)


def test_reports_go_to_new_folders_and_replace_their_own_kind_only(repo: Path, tmp_path: Path):
    reports = tmp_path / "reports" / "new"
    runs = [["test", "-t", "sigma", "--json", str(reports / "r.json"), "--junit", str(reports / "r.xml")],
            ["build", "--report", "-t", "sigma", "--report-json", str(reports / "m.json")]]
    for args in runs * 2:  # the second time over the reports of the first
        assert runner.invoke(app, args).exit_code == 0
    assert sorted(p.name for p in reports.iterdir()) == ["m.json", "r.json", "r.xml"]
    before = snapshot(reports)
    result = runner.invoke(app, ["test", "-t", "sigma", "--json", str(reports / "m.json")])
    assert result.exit_code == 2
    assert result.stderr == f"--json {reports / 'm.json'}: " + NOT_OURS.format(kind="test results") + "\n"
    assert snapshot(reports) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--output", "sigma/out"],
         "--output sigma/out: refusing to write there: it is inside the rules folder ({root}/sigma)"),
        (["build", "--rules", "sigma/windows", "--output", "sigma/windows/aws"],
         "--output sigma/windows/aws: refusing to write there: it is inside the rules folder ({root}/sigma/windows)"),
        (["build", "--all-clients", "--output", "clients/out"],
         "--output clients/out: refusing to write there: it is inside the clients folder ({root}/clients)"),
        (["package", "--client", "acme", "--output", "sigma/dist"],
         "--output sigma/dist: refusing to write there: it is inside the rules folder ({root}/sigma)"),
    ],
    ids=["build-in-rules", "build-in-given-rules", "clients-in-clients", "package-in-rules"],
)
def test_output_inside_the_rules_or_clients_folder_is_refused(repo: Path, args: list[str], message: str):
    """A build writes cloudformation.yaml: inside the rules folder the next build would read it as a rule."""
    refused(args, repo, message.format(root=repo))
