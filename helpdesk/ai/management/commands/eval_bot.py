"""``manage.py eval_bot --tenant SLUG [--file questions.jsonl]``: how well a tenant's bot answers.

Asks the tenant's bot a set of questions with known answers (the format is in
helpdesk/ai/evaluation/questions.py; the demo's bilingual set is the default) and prints
retrieval hit@1 / hit@3, citation correctness, handoff rate and latency, overall and per
language. ``--retrieval-only`` measures the knowledge search without asking the model;
``--json FILE`` writes every question's outcome for a closer look. Nothing is stored.
"""

import asyncio
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from helpdesk.ai.evaluation.questions import DEMO_QUESTIONS, QuestionFileError, load_questions
from helpdesk.ai.evaluation.runner import Report, evaluate
from helpdesk.ai.management.tenant_choice import chosen_tenants
from helpdesk.ai.models import BotConfig
from helpdesk.tenants.models import Inbox, Tenant

FIGURES = (
    ("hit_at_1", "retrieval hit@1", "share"),
    ("hit_at_3", "retrieval hit@3", "share"),
    ("citation_correct", "citation correct", "share"),
    ("phrase_found", "expected phrase in answer", "share"),
    ("handoff_rate", "handoff rate", "share"),
    ("correct_handoffs", "off-topic handed off", "share"),
    ("false_handoffs", "answerable handed off", "count"),
    ("errors", "errors", "count"),
    ("retrieval_ms_p50", "retrieval p50 (ms)", "ms"),
    ("retrieval_ms_p99", "retrieval p99 (ms)", "ms"),
    ("answer_ms_p50", "answer p50 (ms)", "ms"),
    ("answer_ms_p99", "answer p99 (ms)", "ms"),
)


class Command(BaseCommand):
    help = "Ask a tenant's bot questions with known answers and report how it did."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG")
        parser.add_argument(
            "--file", type=Path, default=DEMO_QUESTIONS, help="JSON lines; default: the demo's"
        )
        parser.add_argument("--bot", type=int, metavar="ID", help="default: the inbox's bot")
        parser.add_argument("--retrieval-only", action="store_true")
        parser.add_argument(
            "--json", dest="json_path", type=Path, metavar="FILE", help="write every outcome"
        )

    def handle(self, *args, tenant, file, bot, retrieval_only, json_path, **options):
        found = chosen_tenants([tenant], every=False).get()
        chosen = _bot(found, bot)
        try:
            questions = load_questions(file)
        except QuestionFileError as error:
            raise CommandError(str(error)) from None
        report = asyncio.run(
            evaluate(tenant=found, bot=chosen, questions=questions, retrieval_only=retrieval_only)
        )
        self.stdout.write(_table(report, chosen))
        if json_path is not None:
            _write_outcomes(report, json_path)
            self.stdout.write(_("Every outcome: %(path)s") % {"path": json_path})


def _bot(tenant: Tenant, bot_id: int | None) -> BotConfig:
    bots = BotConfig.objects.filter(tenant=tenant)
    if bot_id is not None:
        bot = bots.filter(pk=bot_id).first()
        if bot is None:
            raise CommandError(_("The tenant has no bot %(id)s.") % {"id": bot_id})
        return bot
    inbox = Inbox.objects.filter(tenant=tenant, bot__isnull=False).order_by("pk").first()
    bot = inbox.bot if inbox is not None else bots.filter(is_active=True).order_by("pk").first()
    if bot is None:
        raise CommandError(_("The tenant has no bot; give one with --bot."))
    return bot


def _table(report: Report, bot: BotConfig) -> str:
    languages = sorted({r.question.lang for r in report.results if r.question.lang})
    columns = [("all", report.summary())] + [(lang, report.summary(lang)) for lang in languages]
    lines = [
        _("Bot %(bot)s, %(count)d questions%(mode)s")
        % {
            "bot": bot,
            "count": len(report.results),
            "mode": "" if report.answered else _(" (retrieval only)"),
        },
        f"{'':28}" + "".join(f"{name:>10}" for name, _figures in columns),
    ]
    for key, label, kind in FIGURES:
        if key not in columns[0][1]:
            continue
        cells = "".join(f"{_cell(figures.get(key), kind):>10}" for _name, figures in columns)
        lines.append(f"{label:28}{cells}")
    lines.append(f"{'questions':28}" + "".join(f"{f['questions']:>10}" for _n, f in columns))
    return "\n".join(lines)


def _cell(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "ms":
        return f"{value:.1f}"
    return str(value)


def _write_outcomes(report: Report, path: Path) -> None:
    rows = [
        {
            "question": r.question.question,
            "expected_source": r.question.expected_source,
            "found": r.found,
            "hit_at_1": r.hit_at_1,
            "hit_at_3": r.hit_at_3,
            "answer": r.answer,
            "cited": r.cited,
            "handed_off": r.handed_off,
            "error": r.error,
            "retrieval_ms": round(r.retrieval_ms, 2),
            "answer_ms": None if r.answer_ms is None else round(r.answer_ms, 2),
        }
        for r in report.results
    ]
    path.write_text(
        "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8"
    )
