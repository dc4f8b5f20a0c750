"""Submit a quiz: graded on the server against the answer keys, recorded across both
databases like progress (workflows/record_progress.py): the lesson's activity, the events of a
submission (and of a perfect score), the audit entry and the intent in one PostgreSQL
transaction; the attempt pushed once, by its id, into the learner's lesson_progress under the
saga. MongoDB down after the commit: the result with `recorded: false`, stored by the relay
later. With an `Idempotency-Key`, a retry gets the same graded attempt back."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from oneenglish.audit import service as audit
from oneenglish.core import clock
from oneenglish.core.context import Actor
from oneenglish.core.errors import InvalidInput
from oneenglish.core.principal import Principal
from oneenglish.db.mongo import Database
from oneenglish.enrollments import service as enrollments
from oneenglish.events import service as events
from oneenglish.idempotency import service as idempotency
from oneenglish.idempotency.service import IdempotentRequest
from oneenglish.progress import completion
from oneenglish.progress import service as progress
from oneenglish.progress.schemas import CompletionMissing, QuizAttemptRecord, QuizIn, QuizResultOut
from oneenglish.sagas.log import enqueue
from oneenglish.sagas.runner import SagaRunner
from oneenglish.sagas.workflow import OnFailure, SagaKind, Step, StepContext, Workflow, register
from oneenglish.views.lesson_view import enrolled_access

KIND = SagaKind("record_quiz_attempt", QuizAttemptRecord)


async def _store_attempt(context: StepContext[QuizAttemptRecord]) -> None:
    await progress.apply_quiz_attempt(context.mongo, context.payload)


WORKFLOW = register(Workflow(KIND, (Step("attempt", _store_attempt),), on_failure=OnFailure.RETRY))


def _camel(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    return {
        "".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v
        for k, v in model.model_dump(mode="json", exclude=exclude).items()
    }


def _graded(exercises: list[dict[str, Any]], body: QuizIn, pass_mark: int) -> QuizResultOut:
    """The attempt graded against the keys (not yet recorded), without feedback."""
    results, score, max_score = progress.grade_attempt(exercises, body.answers)
    percent = round(100 * score / max_score, 2) if max_score else 0.0
    return QuizResultOut(
        attempt_id=uuid.uuid4(),
        score=score,
        max_score=max_score,
        percent=percent,
        perfect=max_score > 0 and score == max_score,
        pass_mark=pass_mark,
        passed=percent >= pass_mark,
        answers_shown=False,
        results=results,
        recorded=False,
    )


def _shows_answers(policy: str, best_percent: float | None, pass_mark: int) -> bool:
    """after_each_attempt: always; after_passing: once any attempt reached the pass mark."""
    if policy == "after_each_attempt":
        return True
    return policy == "after_passing" and best_percent is not None and best_percent >= pass_mark


def _stored_attempt(result: QuizResultOut, body: QuizIn) -> dict[str, Any]:
    """The attempt as lesson_progress keeps it (camelCase)."""
    return {
        "attemptId": str(result.attempt_id),
        "submittedAt": clock.now().isoformat(),
        "score": result.score,
        "maxScore": result.max_score,
        "percent": result.percent,
        # The keys and explanations are the lesson's, not the attempt's.
        "results": [_camel(r, {"correct_answer", "explanation"}) for r in result.results],
        "answers": [_camel(a) for a in body.answers],
    }


async def submit_quiz(
    db: AsyncSession,
    mongo: Database,
    runner: SagaRunner,
    principal: Principal,
    actor: Actor,
    lesson_id: uuid.UUID,
    body: QuizIn,
    idempotent: IdempotentRequest | None = None,
) -> QuizResultOut:
    await idempotency.replay_if_known(db, idempotent)
    access, document = await enrolled_access(db, mongo, principal, lesson_id)
    exercises = (document or {}).get("exercises", [])
    if not exercises:
        raise InvalidInput("This lesson has no exercises to answer")
    lesson = access.lesson
    result = _graded(exercises, body, lesson.pass_mark)
    course = access.course
    activity = await enrollments.record_activity(
        db,
        principal.id,
        course.id,
        course.title,
        lesson_id,
        enrollments.Activity(
            quiz_percent=result.percent,
            rule=completion.rule_for(lesson.completion, lesson.pass_mark, document),
            attempt_id=result.attempt_id,
            answers=[
                enrollments.AnsweredExercise(
                    r.exercise_id, r.type, r.points, r.max_points, r.correct
                )
                for r in result.results
                if not r.needs_review
            ],
        ),
        time_slack_seconds=runner.settings.study_time_slack_seconds,
    )
    best = None if activity.best_quiz_percent is None else float(activity.best_quiz_percent)
    shown = _shows_answers(lesson.show_answers, best, lesson.pass_mark)
    result = result.model_copy(
        update={
            "answers_shown": shown,
            "lesson_completed_at": activity.lesson_completed_at,
            "missing": CompletionMissing(**activity.missing.as_problem())
            if activity.missing
            else None,
            "results": progress.with_feedback(result.results, exercises)
            if shown
            else result.results,
        }
    )
    data = {"courseId": str(course.id), "lessonId": str(lesson_id), "percent": result.percent}
    events.publish(db, events.QUIZ_SUBMITTED, principal.id, data)
    if result.perfect:
        events.publish(db, events.QUIZ_PERFECT, principal.id, data)
    record = QuizAttemptRecord(
        user_id=str(principal.id),
        lesson_id=str(lesson_id),
        course_id=str(course.id),
        enrollment_id=str(activity.enrollment_id),
        attempt=_stored_attempt(result, body),
    )
    saga = enqueue(
        db,
        KIND,
        record,
        subject_id=activity.enrollment_id,
        lease_seconds=runner.settings.saga_recovery_window_seconds,
        user_ids=[principal.id],
    )
    graded = {"score": result.score, "max_score": result.max_score, "percent": result.percent}
    audit.record(
        db,
        actor,
        "quiz.submitted",
        "quiz_attempt",
        result.attempt_id,
        after={"lesson_id": str(lesson_id), **graded},
    )
    # A replay says `recorded: true` once the saga that stores the attempt has completed.
    await idempotency.remember(
        db, idempotent, status_code=200, body=result, user_id=principal.id, saga_id=saga.id
    )
    recorded = await runner.commit_and_run(db, saga)
    return result.model_copy(update={"recorded": recorded})
