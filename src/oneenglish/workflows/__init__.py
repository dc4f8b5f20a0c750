"""The use cases that span both databases (or several domains), one module each, readable top
to bottom."""

from __future__ import annotations

import importlib

WORKFLOW_MODULES = (
    "oneenglish.workflows.deliver_audit",
    "oneenglish.workflows.register_user",
    "oneenglish.workflows.erase_user",
    "oneenglish.workflows.dispatch_event",
    "oneenglish.workflows.create_lesson",
    "oneenglish.workflows.remove_learning",
    "oneenglish.workflows.learning",
    "oneenglish.workflows.engagement",
    "oneenglish.workflows.chat",
    "oneenglish.workflows.achievements_views",
)


def load_all() -> None:
    """Import every workflow so the saga runner knows each kind it may have to recover."""
    for module in WORKFLOW_MODULES:
        importlib.import_module(module)
