"""The layer rules of STYLE.md are checked, not hoped for, and each check is shown to fail when
its rule is broken: an illegal import is added to a copy of the package and the contracts must
refuse it."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "oneenglish"
LINT_IMPORTS = REPO / ".venv" / "bin" / "lint-imports"


def lint_imports(root: Path, package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(REPO, REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "illegal_import", "rule"),
    [
        (
            "lessons/service.py",
            "from oneenglish.courses import router as _other_router",
            "another domain's router is never imported",
        ),
        (
            "lessons/router.py",
            "from oneenglish.courses import models as _other_tables",
            "another domain's tables are used through its service",
        ),
        (
            "lessons/repository.py",
            "from oneenglish.courses import service as _other_service",
            "never calls another domain's service",
        ),
        (
            "lessons/service.py",
            "from oneenglish.courses.models import Course as _OtherTable",
            "another domain's tables are used through its service",
        ),
        (
            "views/lesson_view.py",
            "from oneenglish.lessons import repository as _repository",
            "a composition uses lessons through its service",
        ),
        (
            "lessons/service.py",
            "from oneenglish.lessons import router as _own_router",
            "",  # the layers contract: a service never imports its router
        ),
        (
            "courses/service.py",
            "from oneenglish.workflows import register_user as _workflow",
            "",  # domains never reach up into the workflows
        ),
    ],
)
def test_each_contract_fails_when_its_rule_is_broken(
    tmp_path: Path, module: str, illegal_import: str, rule: str
) -> None:
    copy = tmp_path / "src" / "oneenglish"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "tests" / "architecture", tmp_path / "tests" / "architecture")
    (tmp_path / "tests" / "__init__.py").touch()
    target = copy / module
    target.write_text(target.read_text() + f"\n{illegal_import}  # noqa\n")
    result = lint_imports(tmp_path, tmp_path / "src")
    said = " ".join(result.stdout.split())  # the report wraps its lines
    assert result.returncode != 0, said
    assert "BROKEN" in said
    assert rule in said


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_only_settings_reads_the_environment() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in PACKAGE.rglob("*.py")
        if path.name != "settings.py"
        and "os.environ" in path.read_text()
        # The stack passes the environment on to the processes it starts.
        and "stack" not in path.parts
    ]
    assert offenders == []


def test_only_the_workflows_hold_both_databases() -> None:
    """A module that takes a PostgreSQL session and the MongoDB database at once is a workflow,
    a view, a job or a subscriber; a domain's service has one of them."""
    offenders = []
    for path in PACKAGE.glob("*/service.py"):
        text = path.read_text()
        if "AsyncSession" in text and "db.mongo import" in text and "Database" in text:
            tree = ast.parse(text)
            for node in ast.walk(tree):
                if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
                    kinds = {ast.unparse(a.annotation) for a in node.args.args if a.annotation}
                    if {"AsyncSession", "Database"} <= kinds:
                        offenders.append(f"{path.relative_to(REPO)}::{node.name}")
    assert offenders == []
