"""Every scenario of issue 7, by letter. Add a scenario by defining it in a module of this
package and listing it here (bench/README.md, "Adding a scenario")."""

from __future__ import annotations

from bench.scenarios import auth, chat, files, learning, reports, users
from bench.scenarios.base import Scenario

SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        users.READ_ACCOUNT,
        users.CREATE_USER,
        learning.LESSON,
        learning.LESSON_PROGRESS,
        learning.COURSE_LIST,
        chat.CONVERSATION_PAGE,
        auth.LOGIN,
        auth.RESET,
        reports.REPORTS_SCENARIO,
        files.UPLOAD,
        files.DOWNLOAD,
    )
}

# The issue asks how these slow down from the small to the large data set.
SCALE_SENSITIVE = ("a", "f")
