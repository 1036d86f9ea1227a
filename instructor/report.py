"""The grading reports: JSON for machines, a table and details for people (stdout and .md).

Every report is written from records passed through :func:`instructor.clean_text.clean_value`:
student text (names, messages, cell sources, error texts) never carries terminal escapes.
"""
import json
import time

from instructor import EXERCISE_TITLES, OPTIONAL_EXERCISES, POINTS
from instructor.clean_text import clean_value
from instructor.spec import EXERCISES

_SHORT = {item.id: item.short for item in EXERCISES}


def summary_table(records):
    """Rows of a fixed-width table, one per submission."""
    records = clean_value(records)
    columns = ["submission", "score"] + [_SHORT[e] for e in list(POINTS) + list(OPTIONAL_EXERCISES)]
    columns += ["status", "findings", "cell errors", "time"]
    rows = [columns]
    for record in records:
        rows.append([record["name"], f"{record['score']}/{record['max_score']}"]
                    + [_mark(record, exercise) for exercise in list(POINTS) + list(OPTIONAL_EXERCISES)]
                    + [record["status"].upper() if record["status"] != "passed" else "passed",
                       _finding_count(record), str(len(record.get("errors", []))),
                       f"{record.get('timings', {}).get('total', 0):.1f} s"])
    return rows


def _mark(record, exercise):
    result = record.get("exercises", {}).get(exercise)
    if result is None:
        return "-"
    if result["passed"]:
        return "pass"
    if exercise in OPTIONAL_EXERCISES:
        return "-" if result["message"] == "not attempted" else "fail"
    return "FAIL"


def _finding_count(record):
    tampering = sum(f["severity"] == "tampering" for f in record.get("findings", []))
    warnings = len(record.get("findings", [])) - tampering
    parts = ([f"{tampering} tampering"] if tampering else []) + ([f"{warnings} warning"] if warnings else [])
    return ", ".join(parts) or "-"


def _sandbox_note(records):
    """", not sandboxed (...)" when some record was graded without the sandbox, else ""."""
    unsandboxed = [record["name"] for record in records if record.get("sandboxed") is False]
    if not unsandboxed:
        return ""
    who = "every submission" if len(unsandboxed) == len(records) else ", ".join(unsandboxed)
    return f"; NOT SANDBOXED (--no-sandbox): {who}"


def format_text(records, seconds, jobs):
    """The whole human-readable report: the table, then the details of each submission."""
    records = clean_value(records)
    rows = summary_table(records)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"Graded {len(records)} submission(s) in {seconds:.1f} s with {jobs} job(s)"
             + _sandbox_note(records), ""]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    for record in records:
        lines += [""] + _details(record)
    return "\n".join(lines) + "\n"


def format_markdown(records, seconds, jobs):
    """The same report as Markdown (a table, then a section per submission)."""
    records = clean_value(records)
    rows = summary_table(records)
    lines = ["# Grading report", "",
             f"{len(records)} submission(s), {seconds:.1f} s, {jobs} job(s), "
             f"{time.strftime('%Y-%m-%d %H:%M:%S')}{_sandbox_note(records)}", "",
             "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:]]
    for record in records:
        details = _details(record)
        lines += ["", f"## {details[0]}", ""] + [f"- {line.strip()}" for line in details[1:]]
    return "\n".join(lines) + "\n"


def _details(record):
    lines = [f"{record['name']}: {record['status']}, {record['score']}/{record['max_score']} "
             f"({record['notebook']})"
             + (" [not sandboxed: --no-sandbox]" if record.get("sandboxed") is False else "")]
    if record.get("last_cell_run") is not None:
        lines.append(f"  ran up to cell {record['last_cell_run']}, its last check cell "
                     f"(--stop-after-checks): later cells were neither run nor checked")
    for exercise, result in record.get("exercises", {}).items():
        if result["passed"]:
            verdict = "passed"
        elif exercise in OPTIONAL_EXERCISES and result["message"] == "not attempted":
            verdict = "not attempted"
        else:
            verdict = f"FAILED: {_one_line(result['message'])}"
        if exercise in OPTIONAL_EXERCISES:
            lines.append(f"  {EXERCISE_TITLES[exercise]}, not graded: {verdict}")
        else:
            lines.append(f"  {result['title']} {result['points']}/{result['max_points']}: {verdict}")
    for item in record.get("findings", []):
        lines.append(f"  {item['severity'].upper()} [{item['kind']}] {_one_line(item['message'])}")
    for error in record.get("errors", []):
        where = f"cell {error['cell']}" if error.get("cell") is not None else "notebook"
        graded = f" ({error['graded_cell']})" if error.get("graded_cell") else ""
        source = f" `{error['source']}`" if error.get("source") else ""
        lines.append(f"  {error['status']} in {where}{graded}{source}: {_one_line(error['message'])}")
    timings = record.get("timings", {})
    if timings:
        seconds = [f"{name} {value:.1f} s" for name, value in timings.items()
                   if not isinstance(value, bool)]
        if timings.get("retrain_reused"):
            seconds.append("the architecture's training reused")
        lines.append("  time: " + ", ".join(seconds)
                     + (f"; peak kernel memory {record['peak_memory_mb']:.0f} MB"
                        if record.get("peak_memory_mb") else ""))
    return lines


def _one_line(text, width=300):
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def write_reports(records, report_dir, seconds, jobs, options, extra=None):
    """Write report.json, report.txt and report.md into ``report_dir``; returns their paths.

    ``extra``: more top-level entries for report.json (a shard's ``"shard"`` description, a
    merged report's ``"shards"``).
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    records = clean_value(records)
    document = {"graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(seconds, 2),
                "jobs": jobs, "options": options, **(extra or {}), "submissions": records}
    paths = {"json": report_dir / "report.json", "text": report_dir / "report.txt",
             "markdown": report_dir / "report.md"}
    paths["json"].write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    paths["text"].write_text(format_text(records, seconds, jobs), encoding="utf-8")
    paths["markdown"].write_text(format_markdown(records, seconds, jobs), encoding="utf-8")
    return paths
