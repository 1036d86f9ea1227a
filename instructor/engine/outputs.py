"""What a kernel's cells may store: at most :data:`MAX_CELL_OUTPUT` characters each, streams
merged in linear time.

Nothing here knows about the lab.
"""
import json

import nbformat
from nbclient import NotebookClient

# Characters of output (text, data and tracebacks together) stored per cell; the rest is counted
# and dropped. The lab's largest cell stores 0.1 MB. Without a cap, a cell printing in an endless
# loop until its timeout sent the grader hundreds of MB, and merging them took nbclient minutes
# (measured: a run with a 20 s cell timeout still busy after 300 s).
MAX_CELL_OUTPUT = 2_000_000


class OutputCappedClient(NotebookClient):
    """nbclient's client, storing at most :data:`MAX_CELL_OUTPUT` characters of output per cell.

    What a cell prints past the cap is counted in ``dropped[cell index]`` and thrown away as it
    arrives, so neither the grader's memory nor its time grows with it. A clear_output frees the
    cell's allowance again (a progress display that redraws itself is not a flood).

    While ``keep_only`` is set to ``(mime type, limit)`` (a cell of the caller's own, whose
    answer comes back as one display of that type), every other output is dropped, and displays
    of that type are kept up to ``limit`` characters: a thread the notebook left printing, or
    displaying, cannot fill the caller's memory.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored, self.dropped = {}, {}
        self.keep_only = None

    def forget(self, cell_index):
        """Start counting afresh for the next execution at ``cell_index``."""
        self.stored.pop(cell_index, None)
        self.dropped.pop(cell_index, None)

    def output(self, outs, msg, display_id, cell_index):
        if self.keep_only is None and self.clear_before_next_output:
            self.stored[cell_index] = 0  # a clear_output(wait=True) takes effect now
        content, stored = msg.get("content"), self.stored.get(cell_index, 0)
        size = output_size(content)
        if self.keep_only is not None:
            mime, limit = self.keep_only
            data = content.get("data") if isinstance(content, dict) else None
            if msg.get("msg_type") != "display_data" or not isinstance(data, dict) \
                    or mime not in data or stored + size > limit:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
                return None
            self.stored[cell_index] = stored + size
            return super().output(outs, msg, display_id, cell_index)
        room = MAX_CELL_OUTPUT - stored
        if size > room:
            text = content.get("text") if msg.get("msg_type") == "stream" else None
            if not isinstance(text, str) or room <= 0:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
                return None
            # A print loop's text arrives in large chunks: keep what fits of this one.
            content["text"] = text[:room]
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size - room
            size = room
        self.stored[cell_index] = stored + size
        return super().output(outs, msg, display_id, cell_index)

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if not outs:
            self.stored[cell_index] = 0


def output_size(content):
    """Characters in one output message's content: its text, data and traceback."""
    if not isinstance(content, dict):
        return 0
    parts = [content.get("text"), *(content.get("data") or {}).values(),
             *(content.get("traceback") or [])]
    return sum(len(part) if isinstance(part, str) else len(json.dumps(part, default=str))
               for part in parts if part is not None)


def coalesce_streams(outputs):
    """One stream output per stream name, where its first part was; returns the new list.

    nbclient's ``coalesce_streams`` rules, in linear time: the parts of a stream are joined, on
    each line whatever comes before the last carriage return followed by more of the line is
    dropped (what a terminal shows of a progress line), and a stdout right after a stderr moves
    before it (the two arrive asynchronously). nbclient's own version applies a regular
    expression that is quadratic in the length of a line.
    """
    merged, parts = [], {}
    for output in outputs:
        if output.get("output_type") == "stream" and isinstance(output.get("text"), str):
            if output.get("name") in parts:
                parts[output["name"]].append(output["text"])
                continue
            parts[output.get("name")] = [output["text"]]
        merged.append(output)
    for output in merged:
        if output.get("output_type") == "stream" and output.get("name") in parts:
            output["text"] = drop_overwritten("".join(parts.pop(output["name"])))
    for i, output in enumerate(merged[:-1]):
        following = merged[i + 1]
        if (output.get("output_type"), output.get("name")) == ("stream", "stderr") \
                and (following.get("output_type"), following.get("name")) == ("stream", "stdout"):
            merged[i], merged[i + 1] = following, output
    return merged


def drop_overwritten(text):
    """``text`` without what a carriage return overwrites: on each line, everything up to and
    including its last carriage return that is followed by more of the line."""
    if "\r" not in text:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        last = line.rfind("\r", 0, len(line) - 1)
        if last >= 0:
            lines[i] = line[last + 1:]
    return "\n".join(lines)


def finish_outputs(client, cell, index, note=True):
    """Merge the cell's streams and, with ``note``, say in the cell what was dropped; returns the
    dropped characters."""
    cell.outputs = coalesce_streams(cell.outputs)
    dropped = client.dropped.get(index, 0)
    if dropped and note:
        cell.outputs.append(nbformat.v4.new_output(
            "stream", name="stdout",
            text=f"\n[grader: this cell's output was cut off after {MAX_CELL_OUTPUT:,} "
                 f"characters; {dropped:,} more were not stored]\n"))
    return dropped
