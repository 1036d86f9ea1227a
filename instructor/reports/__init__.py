"""Reports: everything the grader writes for people, from the typed records.

- :func:`write_reports`: report.json (the record, see :mod:`instructor.grading.record`),
  report.txt and report.md (:mod:`~instructor.reports.text`) and report.html, the class
  overview with figures (:mod:`~instructor.reports.html`);
- :mod:`~instructor.reports.feedback`: one file per student;
- :mod:`~instructor.reports.shards`, :mod:`~instructor.reports.merge`: grading in parts, and
  the parts' reports merged into one;
- :mod:`~instructor.reports.clean_text`: student text made safe for a terminal, a text file,
  Markdown and HTML.

May import: :mod:`instructor.lab`, :mod:`instructor.findings` (the registry),
:mod:`instructor.grading` (the record).
"""
import json
from pathlib import Path

from instructor.reports.clean_text import clean_value


def write_reports(report, report_dir):
    """Write report.json, report.txt, report.md and report.html of ``report`` (a
    :class:`~instructor.grading.record.Report`) into ``report_dir``; returns their paths
    ({"json", "text", "markdown", "html"})."""
    from instructor.reports.html import format_html
    from instructor.reports.text import format_markdown, format_text

    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": report_dir / "report.json", "text": report_dir / "report.txt",
             "markdown": report_dir / "report.md", "html": report_dir / "report.html"}
    paths["json"].write_text(json.dumps(clean_value(report.to_json()), indent=2, default=str),
                             encoding="utf-8")
    paths["text"].write_text(format_text(report), encoding="utf-8")
    paths["markdown"].write_text(format_markdown(report), encoding="utf-8")
    paths["html"].write_text(format_html(report), encoding="utf-8")
    return paths
