"""achievements: one document per award, `_id` = "<userId>:<award key>", so an award is given
once however many times (or however concurrently) its event arrives. study_days: one document per
learner and day studied, for streaks."""

from __future__ import annotations

from oneenglish.db.mongo import IndexSpec, Reference, register_indexes, register_reference
from oneenglish.db.sharding import CollectionPlan, register_plans

COLLECTION = "achievements"
STUDY_DAYS = "study_days"

register_indexes(
    IndexSpec(COLLECTION, (("userId", 1), ("earnedAt", -1), ("_id", -1)), "ix_achievements_user"),
    # Leaderboards group by user over everything or one course.
    IndexSpec(COLLECTION, (("courseId", 1), ("userId", 1)), "ix_achievements_course_user"),
    IndexSpec(STUDY_DAYS, (("userId", 1), ("day", -1)), "ix_study_days_user_day"),
)
register_reference(
    Reference(COLLECTION, "userId"),
    Reference(COLLECTION, "courseId", table="courses"),
    Reference(STUDY_DAYS, "userId"),
)

LIST_QUERIES = (
    (COLLECTION, ("userId",), ("earnedAt", "_id")),
    (COLLECTION, ("courseId",), ("userId",)),
    (STUDY_DAYS, ("userId",), ("day",)),
)

register_plans(
    CollectionPlan(
        COLLECTION,
        (("userId", 1),),
        "each learner's awards, inserted once by a deterministic id (so no time in the key); "
        "a course leaderboard reads every shard, as an aggregation over all learners must",
        inserted_once=True,
    ),
    CollectionPlan(
        STUDY_DAYS,
        (("userId", 1),),
        "each learner's days, read by learner, newest first: one shard answers",
    ),
)
