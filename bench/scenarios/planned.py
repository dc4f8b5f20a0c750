"""(c)–(f): scenarios whose endpoints are being built (courses, lessons, progress, chat).

Each stays a placeholder, skipped by the runner with a note, until its endpoint exists. To make
one real, move it to a module of its own (like users.py), give it `wrk=` (a Lua script in
bench/lua), `floor=` (the same database operations through asyncpg and PyMongo) and `cleanup=`
if it writes, and add the data sets it names to bench/data/. Routes are the issue's; where the
code names a path parameter differently, the runner still matches them.
"""

from __future__ import annotations

from bench.api_server import Route
from bench.scenarios.base import Scenario

BEING_BUILT = "courses, lessons, progress and chat are being built"

LESSON = Scenario(
    key="c",
    title="a lesson with its content",
    route=Route("GET", "/api/lessons/{id}"),
    datasets=("users", "courses"),
    pending=BEING_BUILT,
)

LESSON_PROGRESS = Scenario(
    key="d",
    title="save a learner's progress in a lesson",
    route=Route("PUT", "/api/lessons/{id}/progress"),
    datasets=("users", "courses", "enrollments"),
    pending=BEING_BUILT,
)

COURSE_LIST = Scenario(
    key="e",
    title="course list with a filter, one page",
    route=Route("GET", "/api/courses"),
    datasets=("courses",),
    pending=BEING_BUILT,
)

# The chat API's routes are not designed yet: no route to look for until they are.
CONVERSATION_PAGE = Scenario(
    key="f",
    title="a page of a chat conversation",
    route=None,
    datasets=("users", "chat"),
    pending=BEING_BUILT,
)
