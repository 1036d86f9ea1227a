"""The masks of ``nbval_sanitize.cfg``, read and applied the way nbval does.

The grader compares a submission's stored outputs with its own fresh run; using nbval's masks
means that an output nbval would accept in CI is never reported as edited here, and the reverse.
"""
import re

from instructor import SANITIZE_FILE

# nbval's own parser: a "regex: ..." line immediately followed by a "replace: ..." line.
_PAIR = re.compile(r"^regex: (.*)$\n^replace: (.*)$", re.MULTILINE)
# nbval collapses carriage returns and backspaces in streams before comparing.
_CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
_BACKSPACE = re.compile("[^\n]\x08")  # a character, then a backspace character


def load_patterns(path=SANITIZE_FILE):
    """[(regex, replacement)] from a sanitize file, in file order."""
    return _PAIR.findall(path.read_text(encoding="utf-8"))


def sanitize(text, patterns):
    """``text`` with every mask applied in order."""
    for regex, replacement in patterns:
        text = re.sub(regex, replacement, text)
    return text


def collapse_terminal_controls(text):
    """Apply backspaces and carriage returns as a terminal would (as nbval does)."""
    previous = None
    while previous != text:
        previous, text = text, _BACKSPACE.sub("", text)
    return _CARRIAGE_RETURN.sub("", text)


def comparable_outputs(outputs, patterns):
    """The text a code cell shows, in the form nbval compares, for one cell's outputs.

    Returns {"stdout": str, "stderr": str, "text/plain": [str, ...], "error": [str, ...]}:
    streams joined (nbval coalesces them), text/plain of each display or result in order, and
    "Name: value" of each error. Images, HTML and widget views are left out: nbval skips images
    and widget views, and HTML repeats the plain text.
    """
    streams = {"stdout": "", "stderr": ""}
    plain, errors = [], []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            streams[output.get("name", "stdout")] = streams.get(output.get("name", "stdout"), "") + _text(output.get("text", ""))
        elif kind in ("display_data", "execute_result"):
            if "text/plain" in output.get("data", {}):
                plain.append(sanitize(_text(output["data"]["text/plain"]), patterns))
        elif kind == "error":
            errors.append(sanitize(f"{output.get('ename', '')}: {output.get('evalue', '')}", patterns))
    result = {name: sanitize(collapse_terminal_controls(text), patterns)
              for name, text in streams.items()}
    result["text/plain"] = plain
    result["error"] = errors
    return result


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)
