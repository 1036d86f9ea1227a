"""``python -m instructor merge-reports OUT_DIR REPORT_DIR...``: shard reports into one report.

Each REPORT_DIR holds the report.json of one ``grade --shard K/N`` run. The merged report.json,
report.txt and report.md hold the same records, in the same order, as one run over all the
submissions would. Merging refuses (:class:`MergeError`, with what to do) shards that overlap,
a missing shard, shards of different runs (other submissions or another N), and shards graded
with different options.
"""
import json
from pathlib import Path

from instructor.grading.record import SCHEMA_VERSION, Report, SubmissionRecord
from instructor.reports import write_reports

# Options that say where to put things, not how to grade: they may differ between shards.
LOCAL_OPTIONS = ("executed_dir",)


class MergeError(ValueError):
    """The shard reports cannot be merged; the message says why and what to do."""


def read_shard_report(report_dir):
    """The report.json document of one shard (a dict with a ``"shard"`` entry).

    Raises:
      MergeError: no readable report.json there, or it was not written by ``grade --shard``.
    """
    path = Path(report_dir) / "report.json"
    if not path.is_file():
        raise MergeError(f"{report_dir}: no report.json found; pass the --report-dir of each "
                         f"`grade --shard K/N` run")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MergeError(f"{path}: not a readable grading report ({error})") from None
    if isinstance(document, dict) and document.get("schema_version") != SCHEMA_VERSION:
        raise MergeError(f"{path}: written by another version of the grader (report schema "
                         f"{document.get('schema_version', 1)}, this one reads "
                         f"{SCHEMA_VERSION}); grade this shard again with this version")
    if not isinstance(document, dict) or not isinstance(document.get("shard"), dict):
        raise MergeError(f"{path}: this report was not graded with --shard K/N, so it cannot be "
                         f"merged; grade each part with `python -m instructor grade --shard K/N "
                         f"... --report-dir DIR`")
    shard = document["shard"]
    well_formed = (isinstance(shard.get("index"), int) and isinstance(shard.get("count"), int)
                   and isinstance(shard.get("all"), list) and isinstance(shard.get("graded"), list)
                   and isinstance(document.get("submissions"), list))
    if not well_formed:
        raise MergeError(f"{path}: its \"shard\" entry or its submissions are not what "
                         f"`grade --shard` writes (index, count, all, graded); grade this shard "
                         f"again")
    return document


def merge_documents(documents, names):
    """The merged records and the facts of the whole run, from shard documents.

    Args:
      documents: report.json documents, one per shard, as :func:`read_shard_report` returns.
      names: how to name each document in messages (its folder), same order.

    Returns:
      dict with ``records`` (in single-run order), ``options``, ``seconds`` (the slowest shard:
      the wall time when the shards run side by side), ``jobs`` (all the shards' jobs) and
      ``shards`` (one summary per shard).

    Raises:
      MergeError: overlapping or missing shards, shards of different runs or options.
    """
    if not documents:
        raise MergeError("merge-reports: no report folders given; pass the --report-dir of "
                         "every shard")
    first, first_name = documents[0], names[0]
    count = first["shard"]["count"]
    everyone = first["shard"]["all"]
    options = _grading_options(first)
    by_index = {}
    for document, name in zip(documents, names):
        shard = document["shard"]
        if shard["count"] != count:
            raise MergeError(f"{name} is shard {shard['index']}/{shard['count']} but {first_name} "
                             f"is shard {first['shard']['index']}/{count}: merge the shards of one "
                             f"run, all cut into the same number of parts")
        if shard["all"] != everyone:
            raise MergeError(f"{name} and {first_name} were cut from different submissions (the "
                             f"paths, their order or the folder the command ran in differ): "
                             f"grade every shard with the same PATH arguments from the same folder")
        theirs = _grading_options(document)
        if theirs != options:
            differing = sorted(key for key in set(options) | set(theirs)
                               if options.get(key) != theirs.get(key))
            details = "; ".join(f"{key}: {options.get(key)!r} in {first_name}, "
                                f"{theirs.get(key)!r} in {name}" for key in differing)
            raise MergeError(f"{name} and {first_name} were graded with different options "
                             f"({details}); grade every shard with the same options")
        if shard["index"] in by_index:
            raise MergeError(f"shard {shard['index']}/{count} is given twice ({by_index[shard['index']][1]} "
                             f"and {name}): the shards overlap; pass each shard's folder once")
        by_index[shard["index"]] = (document, name)
    missing = [index for index in range(1, count + 1) if index not in by_index]
    if missing:
        raise MergeError(f"shard(s) {', '.join(f'{index}/{count}' for index in missing)} missing: "
                         f"a merged report needs all {count} parts; grade the missing part(s) "
                         f"with --shard, or pass their report folders too")
    records, graded_by = {}, {}
    for index in sorted(by_index):
        document, name = by_index[index]
        listed = document["shard"]["graded"]
        present = [record["name"] for record in document.get("submissions", [])]
        if sorted(present) != sorted(listed):
            raise MergeError(f"{name}: its records ({len(present)}) are not the submissions the "
                             f"shard says it graded ({len(listed)}): the report was edited or cut "
                             f"short; grade this shard again")
        for record in document["submissions"]:
            if record["name"] in graded_by:
                raise MergeError(f"{record['name']} was graded by two shards ({graded_by[record['name']]} "
                                 f"and {name}): the shards overlap; grade them again from the "
                                 f"same command line")
            graded_by[record["name"]] = name
            records[record["name"]] = record
    not_graded = [item["name"] for item in everyone if item["name"] not in records]
    if not_graded:
        raise MergeError(f"no shard graded {', '.join(not_graded)}: the shards do not cover the "
                         f"run; grade every part 1/{count} to {count}/{count}")
    shards = [{"index": index, "report": str(by_index[index][1]),
               "graded_at": by_index[index][0].get("graded_at"),
               "seconds": by_index[index][0].get("seconds", 0.0),
               "jobs": by_index[index][0].get("jobs", 1),
               "submissions": len(by_index[index][0]["shard"]["graded"])}
              for index in sorted(by_index)]
    return {"records": [records[item["name"]] for item in everyone],
            "options": first.get("options", {}),
            "seconds": max(shard["seconds"] for shard in shards),
            "jobs": sum(shard["jobs"] for shard in shards),
            "shards": shards}


def _grading_options(document):
    return {key: value for key, value in (document.get("options") or {}).items()
            if key not in LOCAL_OPTIONS}


def merge_reports(out_dir, report_dirs):
    """Merge the shard reports in ``report_dirs`` into ``out_dir``; returns the written paths
    ({"json", "text", "markdown", "html"}) and the merged Report.

    Raises:
      MergeError: see :func:`merge_documents`; also when ``out_dir`` is one of the shard folders.
    """
    out_dir = Path(out_dir)
    for report_dir in report_dirs:
        if Path(report_dir).resolve() == out_dir.resolve():
            raise MergeError(f"{out_dir}: is also a shard's report folder; write the merged report "
                             f"to a folder of its own")
    documents = [read_shard_report(report_dir) for report_dir in report_dirs]
    merged = merge_documents(documents, [str(report_dir) for report_dir in report_dirs])
    report = Report(graded_at=max(shard["graded_at"] or "" for shard in merged["shards"]),
                    seconds=merged["seconds"], jobs=merged["jobs"], options=merged["options"],
                    submissions=[SubmissionRecord.from_json(record) for record in merged["records"]],
                    shards=merged["shards"])
    return write_reports(report, out_dir), report
