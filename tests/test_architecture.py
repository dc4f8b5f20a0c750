"""The layering rules of STYLE.md are checked, not hoped for."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "oneenglish"


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "lint-imports"), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


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


def test_no_domain_imports_another_domains_repository() -> None:
    offenders = []
    for path in PACKAGE.glob("*/*.py"):
        domain = path.parent.name
        for module in _imported_modules(path):
            parts = module.split(".")
            if (
                len(parts) >= 3
                and parts[0] == "oneenglish"
                and parts[2] == "repository"
                and parts[1] != domain
            ):
                offenders.append(f"{path.relative_to(REPO)} imports {module}")
    assert offenders == []


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
