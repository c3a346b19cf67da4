import json

import pytest

from helpdesk.ai.demo_knowledge import DEMO_ARTICLES
from helpdesk.ai.evaluation.questions import (
    DEMO_QUESTIONS,
    EvalQuestion,
    QuestionFileError,
    load_questions,
)


def write(tmp_path, *lines: str):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_demo_set_is_bilingual_and_every_expectation_points_at_one_article():
    questions = load_questions(DEMO_QUESTIONS)
    titles = [article["question"] for article in DEMO_ARTICLES]

    assert len(questions) >= 30
    assert sum(q.lang == "zh" for q in questions) >= len(questions) / 2 - 1
    assert any(q.expected_source is None for q in questions)  # some nothing answers
    for question in questions:
        if question.expected_source is None:
            continue
        (article,) = [a for a in DEMO_ARTICLES if question.expects(a["question"])]
        assert sum(question.expects(title) for title in titles) == 1
        if question.expected_phrase:
            assert question.expected_phrase in article["answer"], question


def test_a_line_is_read_with_its_optional_keys(tmp_path):
    path = write(
        tmp_path,
        json.dumps({"question": " Are you open on Sundays? ", "expected_source": "hours"}),
        "",
        json.dumps(
            {"question": "天气", "expected_source": None, "expected_phrase": "x", "lang": "zh"}
        ),
    )

    assert load_questions(path) == [
        EvalQuestion("Are you open on Sundays?", "hours"),
        EvalQuestion("天气", None, "x", "zh"),
    ]


def test_a_source_is_expected_by_any_part_of_its_title_in_any_case():
    question = EvalQuestion("q", "Opening HOURS")

    assert question.expects("What are your opening hours? / 营业时间")
    assert not question.expects("Payment methods")
    assert not EvalQuestion("q", None).expects("anything")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"expected_source": "x"}', '"question" must be'),
        ('{"question": "  ", "expected_source": "x"}', '"question" must be'),
        ('{"question": "q"}', '"expected_source" is missing'),
        ('{"question": "q", "expected_source": 3}', '"expected_source" must be'),
        ('{"question": "q", "expected_source": "x", "lang": ""}', '"lang" must be'),
        ('{"question": "q", "expected_source": "x", "answer": "y"}', "unknown keys: answer"),
    ],
)
def test_a_bad_line_is_refused_with_its_number_and_reason(tmp_path, line, reason):
    path = write(tmp_path, '{"question": "fine", "expected_source": null}', line)

    with pytest.raises(QuestionFileError, match=f"Line 2: .*{reason}"):
        load_questions(path)


def test_an_empty_or_missing_or_binary_file_is_refused(tmp_path):
    with pytest.raises(QuestionFileError, match="no questions"):
        load_questions(write(tmp_path, ""))
    with pytest.raises(QuestionFileError, match="Cannot read"):
        load_questions(tmp_path / "missing.jsonl")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(QuestionFileError, match="Cannot read"):
        load_questions(binary)


def test_a_long_question_is_refused(tmp_path):
    path = write(tmp_path, json.dumps({"question": "x" * 2001, "expected_source": None}))

    with pytest.raises(QuestionFileError, match="longer than 2000"):
        load_questions(path)
