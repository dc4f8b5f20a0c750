"""Every table and document model, imported once: for Alembic's metadata and the index bootstrap."""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "oneenglish.users.models",
    "oneenglish.rbac.models",
    "oneenglish.auth.models",
    "oneenglish.accounts.models",
    "oneenglish.mail.models",
    "oneenglish.realtime.models",
    "oneenglish.sagas.models",
    "oneenglish.profiles.models",
    "oneenglish.user_settings.models",
    "oneenglish.audit.models",
    "oneenglish.courses.models",
    "oneenglish.lessons.models",
    "oneenglish.enrollments.models",
    "oneenglish.content.models",
    "oneenglish.progress.models",
    "oneenglish.chat.models",
    "oneenglish.notifications.models",
    "oneenglish.achievements.models",
    "oneenglish.activity.models",
    "oneenglish.error_logs.models",
    "oneenglish.limits.models",
    "oneenglish.blocks.models",
    "oneenglish.idempotency.models",
    "oneenglish.payments.models",
    "oneenglish.files.models",
)


def load_all() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
