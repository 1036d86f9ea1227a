"""The class overview: ``report.html``, one page an instructor can look at instead of reading.

Built from the typed records alone (a merged report gets the same page), readable offline: the
figures are PNG images inside the page, there is no script and no file beside it. Figures:

- the score distribution (how many submissions got each score);
- the pass rate of each exercise (an optional challenge: among those who attempted it);
- the most frequent mistakes, by the hint the checks gave the students;
- the findings by kind, tampering apart from warnings;
- the time each submission took to grade.

Then a table of the submissions. Student text is HTML-escaped; colours are Okabe-Ito's, safe for
the common colour-vision deficiencies, and every figure has a text alternative with its numbers.
"""
import base64
import html
import io
from collections import Counter

from matplotlib.figure import Figure

from instructor.findings.registry import KINDS, TAMPERING
from instructor.lab import spec
from instructor.reports.clean_text import one_line
from instructor.reports.feedback import student_message

BLUE, ORANGE, GREEN, VERMILLION, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#999999"
TOP_MISTAKES = 8


def _label(text, width=90):
    """Student text as a figure label: one line, and its dollar signs escaped, so matplotlib
    shows them instead of reading mathtext (a crafted formula made its parser recurse until
    the whole page failed)."""
    return one_line(text, width).replace("$", r"\$")


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width=6.4, height=3.0):
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def score_distribution(records):
    """(figure, text alternative): how many submissions got each score."""
    counts = Counter(record.score for record in records)
    scores = sorted(set(counts) | {0, spec.MAX_SCORE})
    fig, ax = _figure()
    ax.bar([str(score) for score in scores], [counts.get(score, 0) for score in scores], color=BLUE)
    ax.set_title("Score distribution")
    ax.set_xlabel(f"score (out of {spec.MAX_SCORE})")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    alt = "Submissions per score: " + ", ".join(f"{counts.get(score, 0)} scored {score}"
                                                 for score in scores) + "."
    return fig, alt


def pass_rates(records):
    """(figure, text alternative): the share of submissions that passed each exercise."""
    labels, rates, described = [], [], []
    for item in spec.EXERCISES:
        results = [record.exercises.get(item.id) for record in records]
        counted = [result for result in results if result is not None
                   and result.status not in ("not attempted", "not graded")]
        passed = sum(result.passed for result in counted)
        rate = passed / len(counted) if counted else 0.0
        labels.append(item.short)
        rates.append(100 * rate)
        among = "attempted" if item.optional else "graded"
        described.append(f"{item.title}: {passed} of {len(counted)} {among} passed")
    fig, ax = _figure()
    colours = [ORANGE if item.optional else BLUE for item in spec.EXERCISES]
    ax.bar(labels, rates, color=colours)
    ax.set_ylim(0, 100)
    ax.set_title("Pass rate per exercise (optional: among those who attempted it)")
    ax.set_ylabel("passed (%)")
    return fig, "; ".join(described) + "."


def frequent_mistakes(records):
    """(figure or None, text alternative): the hints students got most often."""
    hints = Counter()
    for record in records:
        for item in spec.EXERCISES:
            result = record.exercises.get(item.id)
            if result is None or result.status != "failed":
                continue
            message = student_message(item.id, result)
            hint = message.rpartition("Hint:")[2].strip() or message.split(". ")[0]
            hints[(item.short, one_line(hint, 90))] += 1
    if not hints:
        return None, "No exercise failed: no mistake to count."
    top = hints.most_common(TOP_MISTAKES)[::-1]
    fig, ax = _figure(9.0, 0.45 * len(top) + 1.2)
    ax.barh([_label(f"{short}: {hint}", 100) for (short, hint), _ in top], [count for _, count in top],
            color=VERMILLION)
    ax.set_title("Most frequent mistakes, by the hint the students got")
    ax.set_xlabel("submissions")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(axis="y", labelsize=7)
    alt = "Most frequent hints: " + "; ".join(f"{count} times, {short}: {hint}"
                                               for (short, hint), count in top[::-1]) + "."
    return fig, alt


def findings_by_kind(records):
    """(figure or None, text alternative): how many findings of each kind were made."""
    counts = Counter(item.kind for record in records for item in record.findings)
    if not counts:
        return None, "No findings."
    kinds = sorted(counts, key=lambda kind: (KINDS[kind].severity != TAMPERING, -counts[kind], kind))[::-1]
    fig, ax = _figure(7.5, 0.4 * len(kinds) + 1.2)
    ax.barh(kinds, [counts[kind] for kind in kinds],
            color=[VERMILLION if KINDS[kind].severity == TAMPERING else GREY for kind in kinds])
    ax.set_title("Findings by kind (tampering darker, warnings grey)")
    ax.set_xlabel("findings")
    ax.xaxis.get_major_locator().set_params(integer=True)
    alt = "Findings: " + "; ".join(f"{counts[kind]} {kind} ({KINDS[kind].severity})"
                                   for kind in kinds[::-1]) + "."
    return fig, alt


def grading_times(records):
    """(figure, text alternative): seconds each submission took to grade."""
    fig, ax = _figure(7.5, 0.3 * len(records) + 1.2 if len(records) <= 30 else 3.0)
    seconds = [record.timings.total for record in records]
    if len(records) <= 30:
        names = [_label(record.name, 30) for record in records][::-1]
        ax.barh(names, seconds[::-1], color=GREEN)
        ax.set_xlabel("seconds")
        ax.tick_params(axis="y", labelsize=7)
    else:
        ax.hist(seconds, bins=20, color=GREEN)
        ax.set_xlabel("seconds")
        ax.set_ylabel("submissions")
    ax.set_title("Time to grade each submission")
    alt = (f"Grading times: from {min(seconds):.1f} s to {max(seconds):.1f} s, median "
           f"{sorted(seconds)[len(seconds) // 2]:.1f} s." if seconds else "No submission.")
    return fig, alt


FIGURES = (score_distribution, pass_rates, frequent_mistakes, findings_by_kind, grading_times)


def format_html(report):
    """The whole page, as text."""
    records = report.submissions
    e = html.escape
    flagged = sum(record.flagged for record in records)
    passed = sum(record.status == "passed" for record in records)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Grading overview</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "img{max-width:100%}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:.2em .5em;text-align:left}</style></head><body>",
             "<h1>Grading overview</h1>",
             f"<p>{len(records)} submission(s): {passed} passed, {len(records) - passed} did not, "
             f"{flagged} flagged for review. Graded at {e(str(report.graded_at))} in "
             f"{report.seconds:.0f} s with {report.jobs} job(s).</p>"]
    if records:
        for draw in FIGURES:
            try:
                fig, alt = draw(records)
                image = _png(fig) if fig is not None else None
            except Exception as error:  # one figure never costs the page (nor the feedback)
                parts.append(f"<p>{e(draw.__name__)}: the figure could not be drawn "
                             f"({e(type(error).__name__)}).</p>")
                continue
            if image is None:
                parts.append(f"<p>{e(alt)}</p>")
                continue
            parts.append(f'<p><img src="data:image/png;base64,{image}" alt="{e(alt)}"></p>')
    parts += ["<h2>Submissions</h2>", "<table><tr><th>submission</th><th>score</th>"
              + "".join(f"<th>{e(item.short)}</th>" for item in spec.EXERCISES)
              + "<th>status</th><th>flagged</th></tr>"]
    for record in records:
        marks = []
        for item in spec.EXERCISES:
            result = record.exercises.get(item.id)
            marks.append("-" if result is None else "pass" if result.passed else result.status)
        parts.append(f"<tr><td>{e(one_line(record.name))}</td><td>{record.score}/"
                     f"{record.max_score}</td>" + "".join(f"<td>{e(mark)}</td>" for mark in marks)
                     + f"<td>{e(record.status)}</td><td>{'yes' if record.flagged else ''}</td></tr>")
    parts += ["</table>", "</body></html>"]
    return "\n".join(parts) + "\n"
