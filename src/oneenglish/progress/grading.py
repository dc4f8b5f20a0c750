"""Grading a quiz attempt against the answer keys, on the server. Pure functions."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Sequence
from typing import Any

from oneenglish.core.errors import InvalidInput
from oneenglish.progress.schemas import (
    Answer,
    BlanksAnswer,
    ChoiceAnswer,
    ExerciseResult,
    PairsAnswer,
    TextAnswer,
)

# Typographic quotes and dashes as people's keyboards and phones type them, to plain ones.
_TYPOGRAPHIC = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)
# Punctuation is ignored, except the apostrophe inside words ("don't" is not "dont").
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation if c != "'"})


def normalise(text: str, case_sensitive: bool = False) -> str:
    """What two answers must share to be the same answer: Unicode-compatible forms, plain
    quotes, no punctuation but in-word apostrophes, single spaces, and (unless the exercise is
    case-sensitive) no case."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHIC).translate(_PUNCTUATION)
    words = [w.strip("'") for w in text.split()]
    collapsed = " ".join(w for w in words if w)
    return collapsed if case_sensitive else collapsed.casefold()


def _normalise(text: str, case_sensitive: bool) -> str:
    return normalise(text, case_sensitive)


def _reject(exercise_id: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"Answer to {exercise_id}: {message}",
        errors=[{"loc": ["body", "answers", exercise_id], "msg": message}],
    )


def check_answers(exercises: dict[str, dict[str, Any]], answers: Sequence[Answer]) -> None:
    """Every answer names an exercise of this lesson, once, with an answer of its type and
    shape; otherwise 422 and nothing is recorded."""
    seen: set[str] = set()
    for answer in answers:
        exercise = exercises.get(answer.exercise_id)
        if exercise is None:
            raise _reject(answer.exercise_id, "no such exercise in this lesson")
        if answer.exercise_id in seen:
            raise _reject(answer.exercise_id, "answered twice")
        seen.add(answer.exercise_id)
        if exercise["type"] == "recording":
            raise _reject(
                answer.exercise_id,
                "a recording is submitted with POST /api/lessons/{id}/submissions",
            )
        if exercise["type"] != answer.type:
            raise _reject(answer.exercise_id, f"expected a {exercise['type']} answer")
        if isinstance(answer, ChoiceAnswer) and answer.option_id not in {
            o["id"] for o in exercise["options"]
        }:
            raise _reject(answer.exercise_id, "no such option")
        if isinstance(answer, BlanksAnswer) and len(answer.blanks) != len(exercise["blanks"]):
            raise _reject(answer.exercise_id, f"expected {len(exercise['blanks'])} blanks")
        if isinstance(answer, PairsAnswer) and (
            not set(answer.pairs) <= {c["id"] for c in exercise["left"]}
            or not set(answer.pairs.values()) <= {c["id"] for c in exercise["right"]}
        ):
            raise _reject(answer.exercise_id, "pairs must map left ids to right ids")
        if isinstance(answer, TextAnswer) and len(answer.text) > exercise["max_length"]:
            raise _reject(answer.exercise_id, f"longer than {exercise['max_length']} characters")


def correct_answer(exercise: dict[str, Any]) -> dict[str, Any] | None:
    """The answer key, in the shape of an answer (what feedback shows); None if a person
    grades the exercise."""
    match exercise["type"]:
        case "multiple_choice":
            return {"option_id": exercise["correct_option_id"]}
        case "fill_in_blank":
            return {"blanks": [blank["accepted"] for blank in exercise["blanks"]]}
        case "matching":
            return {"pairs": exercise["pairs"]}
        case "free_text" if exercise.get("accepted_answers"):
            return {"accepted_answers": exercise["accepted_answers"]}
    return None


def grade_exercise(exercise: dict[str, Any], answer: Answer | None) -> ExerciseResult:
    points: int = exercise["points"]
    result = ExerciseResult(
        exercise_id=exercise["id"],
        type=exercise["type"],
        points=0,
        max_points=points,
        correct=False,
        answer=None if answer is None else answer.model_dump(exclude={"type", "exercise_id"}),
    )
    if exercise["type"] == "recording" or (
        exercise["type"] == "free_text" and not exercise.get("accepted_answers")
    ):
        result.needs_review = True  # a person grades it (recordings: their submissions)
        return result
    if answer is None:
        return result
    share = 0.0
    if isinstance(answer, ChoiceAnswer):
        share = 1.0 if answer.option_id == exercise["correct_option_id"] else 0.0
    elif isinstance(answer, BlanksAnswer):
        sensitive = exercise.get("case_sensitive", False)
        hits = sum(
            _normalise(given, sensitive) in {_normalise(a, sensitive) for a in blank["accepted"]}
            for given, blank in zip(answer.blanks, exercise["blanks"], strict=True)
        )
        share = hits / len(exercise["blanks"])
    elif isinstance(answer, PairsAnswer):
        expected: dict[str, str] = exercise["pairs"]
        share = sum(answer.pairs.get(k) == v for k, v in expected.items()) / len(expected)
    elif isinstance(answer, TextAnswer):
        given = normalise(answer.text)
        share = 1.0 if given in {normalise(a) for a in exercise["accepted_answers"]} else 0.0
    result.points = round(points * share, 2)
    result.correct = share == 1.0
    return result


def with_feedback(
    results: Sequence[ExerciseResult], exercises: Sequence[dict[str, Any]]
) -> list[ExerciseResult]:
    """The results with each exercise's correct answer and explanation."""
    by_id = {e["id"]: e for e in exercises}
    return [
        r.model_copy(
            update={
                "correct_answer": correct_answer(by_id[r.exercise_id]),
                "explanation": by_id[r.exercise_id].get("explanation"),
            }
        )
        for r in results
    ]


def grade(
    exercises: Sequence[dict[str, Any]], answers: Sequence[Answer]
) -> tuple[list[ExerciseResult], float, int]:
    """Per-exercise results, score and maximum. Exercises that need a human are left out of the
    maximum; unanswered ones score 0."""
    by_id = {a.exercise_id: a for a in answers}
    results = [grade_exercise(e, by_id.get(e["id"])) for e in exercises]
    gradable = [r for r in results if not r.needs_review]
    return results, round(sum(r.points for r in gradable), 2), sum(r.max_points for r in gradable)
