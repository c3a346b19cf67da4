"""The evaluation's questions: JSON lines, one question each.

    {"question": "Are you open on Sundays?", "expected_source": "opening hours",
     "expected_phrase": "closed on Sundays", "lang": "en"}

``expected_source`` names the knowledge source that answers the question: its title, or a part
of it (case-insensitive) that no other source's title contains. ``null`` marks a question the
knowledge does not answer, which the bot should hand to a human rather than answer.
``expected_phrase`` (optional) must appear in a good answer. ``lang`` (optional) groups the
figures by language.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

DEMO_QUESTIONS = Path(__file__).with_name("demo_questions.jsonl")
MAX_QUESTIONS = 2000
MAX_QUESTION_CHARS = 2000


class QuestionFileError(ValueError):
    """The file cannot be used; the message says which line and why."""


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    expected_source: str | None
    expected_phrase: str | None = None
    lang: str = ""

    def expects(self, title: str) -> bool:
        return self.expected_source is not None and self.expected_source.casefold() in (
            title.casefold()
        )


def load_questions(path: Path) -> list[EvalQuestion]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QuestionFileError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}
        ) from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        questions.append(_parse(line, number))
        if len(questions) > MAX_QUESTIONS:
            raise QuestionFileError(_("More than %(max)d questions.") % {"max": MAX_QUESTIONS})
    if not questions:
        raise QuestionFileError(_("%(path)s holds no questions.") % {"path": path})
    return questions


def _parse(line: str, number: int) -> EvalQuestion:
    def bad(reason: str) -> QuestionFileError:
        return QuestionFileError(
            _("Line %(line)d: %(reason)s") % {"line": number, "reason": reason}
        )

    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise bad(_("not JSON (%(error)s).") % {"error": error.msg}) from None
    if not isinstance(row, dict):
        raise bad(_("not a JSON object."))
    unknown = set(row) - {"question", "expected_source", "expected_phrase", "lang"}
    if unknown:
        raise bad(_("unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise bad(_('"question" must be a non-empty string.'))
    if len(question) > MAX_QUESTION_CHARS:
        raise bad(_('"question" is longer than %(max)d characters.') % {"max": MAX_QUESTION_CHARS})
    if "expected_source" not in row:
        raise bad(_('"expected_source" is missing (null for a question nothing answers).'))
    for key in ("expected_source", "expected_phrase", "lang"):
        value = row.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise bad(_('"%(key)s" must be a non-empty string or null.') % {"key": key})
    return EvalQuestion(
        question=question.strip(),
        expected_source=row["expected_source"],
        expected_phrase=row.get("expected_phrase"),
        lang=row.get("lang") or "",
    )
