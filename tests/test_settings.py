from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from oneenglish.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def test_env_example_lists_every_setting() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    assert {name.upper() for name in Settings.model_fields} == documented


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]


def test_admin_email_and_password_come_together() -> None:
    with pytest.raises(ValidationError, match="ADMIN_EMAIL"):
        Settings(_env_file=None, admin_email="a@example.com")  # type: ignore[call-arg]
