"""The grading reports for people: a table and details, as plain text (also printed) and as
Markdown.

Student text (names, messages, cell sources, error texts) reaches them only through
:mod:`instructor.reports.clean_text`: no terminal escape, no line break of its own (a name
cannot start a line of the report), and in Markdown no HTML and no Markdown syntax.
"""
from instructor.lab import spec
from instructor.reports.clean_text import markdown, one_line


def _mark(result, item):
    if result is None:
        return "-"
    if result.passed:
        return "pass"
    if result.status == "not attempted":
        return "-"
    if result.status == "not graded":
        return "n/g"
    return "fail" if item.optional else "FAIL"


def status_text(record):
    """'passed', 'FAILED' or 'ERROR', with ', flagged' when a tampering finding was made."""
    text = record.status if record.status == "passed" else record.status.upper()
    return text + (", flagged" if record.flagged else "")


def _finding_count(record):
    tampering = sum(item.severity == "tampering" for item in record.findings)
    warnings = len(record.findings) - tampering
    parts = ([f"{tampering} tampering"] if tampering else []) + \
            ([f"{warnings} warning{'s' if warnings > 1 else ''}"] if warnings else [])
    return ", ".join(parts) or "-"


def summary_table(records):
    """Rows of a fixed-width table, one per submission (names on one line each)."""
    columns = (["submission", "score"] + [item.short for item in spec.EXERCISES]
               + ["status", "findings", "cell errors", "time"])
    rows = [columns]
    for record in records:
        rows.append([one_line(record.name, 60), f"{record.score}/{record.max_score}"]
                    + [_mark(record.exercises.get(item.id), item) for item in spec.EXERCISES]
                    + [status_text(record), _finding_count(record), str(len(record.errors)),
                       f"{record.timings.total:.1f} s"])
    return rows


def _isolation_note(records, text=one_line):
    """"; NOT ISOLATED: ..." when some record was graded without any isolation, else ""."""
    exposed = [record.name for record in records if record.isolation == "none"]
    if not exposed:
        return ""
    who = "every submission" if len(exposed) == len(records) else ", ".join(
        text(name, 60) for name in exposed)
    return f"; NOT ISOLATED (--no-sandbox): {who}"


def format_text(report):
    """The whole plain-text report: the table, then the details of each submission."""
    records = report.submissions
    rows = summary_table(records)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"Graded {len(records)} submission(s) in {report.seconds:.1f} s with {report.jobs} "
             f"job(s)" + _isolation_note(records), ""]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    for record in records:
        lines += [""] + [line if i == 0 else "  " + line
                         for i, line in enumerate(details(record, one_line))]
    return "\n".join(lines) + "\n"


def format_markdown(report):
    """The same report as Markdown (a table, then a section per submission)."""
    records = report.submissions
    rows = summary_table(records)
    lines = ["# Grading report", "",
             f"{len(records)} submission(s), {report.seconds:.1f} s, {report.jobs} job(s), "
             f"graded at {report.graded_at}{_isolation_note(records, markdown)}", "",
             "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(markdown(cell) for cell in row) + " |" for row in rows[1:]]
    for record in records:
        first, *rest = details(record, markdown)
        lines += ["", f"## {first}", ""] + [f"- {line}" for line in rest]
    return "\n".join(lines) + "\n"


def details(record, text):
    """The lines about one submission, each piece of student text passed through ``text``
    (:func:`~instructor.reports.clean_text.one_line` or ``markdown``)."""
    isolation = "" if record.isolation == "sandbox" else f" [isolation: {record.isolation}]"
    lines = [f"{text(record.name)}: {status_text(record)}, {record.score}/{record.max_score} "
             f"({text(record.notebook)}){isolation}"]
    if record.refused:
        lines.append(f"refused: {text(record.refused)}")
    if record.last_cell_run is not None:
        lines.append(f"ran up to cell {record.last_cell_run}, its last check cell "
                     f"(--stop-after-checks): later cells were neither run nor checked")
    for item in spec.EXERCISES:
        result = record.exercises.get(item.id)
        if result is None:
            continue
        verdict = ("passed" if result.passed else result.status if result.status in
                   ("not attempted", "not graded") else "FAILED")
        message = "" if result.passed or result.status == "not attempted" else \
            f": {text(result.message, 300)}"
        worth = "optional" if item.optional else f"{result.points}/{result.max_points}"
        lines.append(f"{item.title} ({worth}): {verdict}{message}")
    for item in record.findings:
        lines.append(f"{item.severity.upper()} [{item.kind}] {text(item.message, 300)}")
    for error in record.errors:
        where = f"cell {error.cell}" if error.cell is not None else "notebook"
        graded = f" ({error.graded_cell})" if error.graded_cell else ""
        source = f" `{text(error.source, 60)}`" if error.source else ""
        lines.append(f"{error.status} in {where}{graded}{source}: {text(error.message, 300)}")
    timings = record.timings
    spent = [f"{name} {value:.1f} s" for name, value in (
        ("total", timings.total), ("notebook", timings.notebook_run), ("calls", timings.calls),
        ("checks", timings.checks), ("retrain", timings.retrain)) if value]
    if timings.retrain_reused:
        spent.append("the architecture's training reused")
    if spent:
        lines.append("time: " + ", ".join(spent) + (f"; peak kernel memory "
                                                     f"{record.peak_memory_mb:.0f} MB"
                                                     if record.peak_memory_mb else ""))
    return lines
