"""The class overview, report.html (instructor/reports/html.py): figures built from the typed
records, each titled and labelled with a text alternative that carries its numbers, in one page
that needs nothing beside it. No kernel runs."""
import re

import pytest

from report_records import exercise_result, hidden_failure_record, record, report
from instructor.findings.registry import finding
from instructor.lab import spec
from instructor.reports import html as overview


@pytest.fixture(scope="module")
def records():
    ex1, ex2 = spec.exercise("exercise_1"), spec.exercise("exercise_2")
    wrong_model = exercise_result(ex2, False, "test_model failed: layer 3 has activation relu, "
                                              "expected linear. Hint: keep the output layer linear.")
    return [record("alice"),
            record("bob", {ex2.id: wrong_model}),
            record("carol", {ex2.id: wrong_model},
                   findings=[finding("check_cell_edited", "the check cell was edited", 57, ex2.id),
                             finding("thread_started", "cell 3: calls threading.Thread()", 3)]),
            hidden_failure_record("dave"),
            record("erin", {ex1.id: exercise_result(ex1, False, "not graded", status="not graded")})]


def test_each_figure_is_titled_labelled_and_described_with_its_numbers(records):
    for draw in overview.FIGURES:
        fig, alt = draw(records)
        assert fig is not None, draw.__name__
        [ax] = fig.axes
        assert ax.get_title() and (ax.get_xlabel() or ax.get_ylabel()), draw.__name__
        assert alt.endswith(".") and re.search(r"\d", alt), (draw.__name__, alt)


def test_the_figures_count_what_the_records_say(records):
    _, scores = overview.score_distribution(records)
    assert "1 scored 100" in scores and "4 scored 50" in scores
    _, rates = overview.pass_rates(records)
    assert "Exercise 2 (model): 3 of 5 graded passed" in rates
    assert "Exercise 1 (my_softmax): 3 of 4 graded passed" in rates  # erin's was not graded
    _, mistakes = overview.frequent_mistakes(records)
    assert mistakes.startswith("Most frequent hints: 2 times, ex2: keep the output layer linear")
    _, findings = overview.findings_by_kind(records)
    assert "1 check_cell_edited (tampering)" in findings and "1 thread_started (warning)" in findings


def test_the_page_stands_alone_and_escapes_student_text(records):
    page = overview.format_html(report(records + [record("<b>eve</b>")]))
    assert page.count("<img ") == len(overview.FIGURES)
    assert "<script" not in page and not re.search(r"""(src|href)=["']?https?:""", page)
    assert "&lt;b&gt;eve&lt;/b&gt;" in page and "<b>eve</b>" not in page
    assert "6 submission(s): 2 passed" in page and "1 flagged for review" in page
    for alt in re.findall(r'alt="([^"]*)"', page):
        assert re.search(r"\d", alt)


def test_a_class_without_mistakes_or_findings_says_so():
    page = overview.format_html(report([record("alice"), record("bob")]))
    assert "No exercise failed: no mistake to count." in page and "No findings." in page
    assert page.count("<img ") == len(overview.FIGURES) - 2


def test_student_text_that_looks_like_a_formula_is_drawn_as_text():
    """A hint of '$' and sixty '{' made matplotlib's mathtext parser recurse until report.html,
    and every student's feedback after it, were not written."""
    ex1 = spec.exercise("challenge_stable_softmax")
    crafted = "x. Hint: $" + "{" * 60 + "$ and $\\frac{a}{$"
    records = [record("mallory" + "$" * 3, {ex1.id: exercise_result(ex1, False, crafted)})]
    page = overview.format_html(report(records))
    assert page.count("<img ") == len(overview.FIGURES) - 1  # no findings: no figure for them
    assert "could not be drawn" not in page


def test_a_figure_that_fails_costs_only_itself(monkeypatch, records):
    def broken(records):
        raise RuntimeError("boom")
    monkeypatch.setattr(overview, "FIGURES", (broken,) + overview.FIGURES[1:])
    page = overview.format_html(report(records))
    assert "broken: the figure could not be drawn (RuntimeError)." in page
    assert page.count("<img ") == len(overview.FIGURES) - 1
