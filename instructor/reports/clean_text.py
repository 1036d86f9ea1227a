"""Student text made safe to print: no terminal control characters or escape sequences.

A submission controls much of what reaches a report (error messages, cell sources, folder names,
anything a check echoes back). Printed to the instructor's terminal, an ANSI or OSC escape could
recolour, hide or rewrite the lines around it (a carriage return overwrites a line: "passed\\r"
can hide "TAMPERING"), or set the window title and hyperlinks. Every report runs its text through
:func:`clean` (strings) or :func:`clean_value` (whole records) before writing it.
"""
import re

# ESC-based sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC
# strings (ESC P|X|^|_ ... ESC \), and two-byte escapes (ESC followed by one character).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"            # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, closed by BEL or ST (or cut off)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"       # DCS, SOS, PM, APC
    r"|\x1b[\x20-\x7e]?"                    # two-byte escapes, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"               # 8-bit CSI
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"      # 8-bit OSC
)
# What is left after the sequences: C0 controls except tab and newline, DEL, C1 controls, and the
# Unicode bidirectional overrides that reorder what a reader sees.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Lone surrogates are not characters: no UTF-8 file or terminal takes one (printing a report
# with one raised UnicodeEncodeError). Python makes them from the bytes of a file name that is
# not UTF-8 (U+DC80..U+DCFF, shown here as the byte, "\xff"), and a kernel can send any.
_SURROGATES = re.compile("[\ud800-\udfff]")


def _surrogate(match):
    code = ord(match.group())
    return f"\\x{code - 0xdc00:02x}" if 0xdc80 <= code <= 0xdcff else "\ufffd"


def clean(text):
    """``text`` without escape sequences or control characters; str in, str out.

    A carriage return, NEL and the Unicode line and paragraph separators become line breaks (so
    the text a carriage return would have overwritten stays visible, and no break hides from
    the one_line below); tabs and line breaks are kept; a lone surrogate becomes the byte it
    stands for (``\\xff``) or U+FFFD; everything else is removed.
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    # The other line breaks of Unicode (vertical tab and form feed are controls, removed below):
    # a reader or an editor would start a new line at each.
    text = text.replace("\x85", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", _SURROGATES.sub(_surrogate, text)))


def clean_value(value):
    """A copy of a JSON-like value (dicts, lists, strings, numbers) with every string, keys
    included, passed through :func:`clean`."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(key) if isinstance(key, str) else key: clean_value(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_value(item) for item in value]
    return value


def one_line(text, width=None):
    """Student text for one line of a report: cleaned (:func:`clean`), every line break shown as
    the two characters ``\\n`` (so no name or message can begin a report line of its own), runs
    of spaces collapsed, cut to ``width`` characters with "..." when given."""
    text = " ".join(clean(text).replace("\n", "\\n").replace("\t", " ").split(" "))
    text = re.sub(r" {2,}", " ", text).strip()
    if width is not None and len(text) > width:
        text = text[:width - 3] + "..."
    return text


# The characters that mean something in the middle of a Markdown line (code spans, emphasis,
# links, tables, strikethrough); a line's start is never student text (one_line keeps it on the
# line the report starts), so headings and list markers need no escape.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def markdown(text, width=None):
    """Student text inside Markdown: :func:`one_line`, HTML's characters as entities (no tag a
    viewer would render), and the characters Markdown gives a meaning within a line escaped (no
    code span, emphasis, link or table cell can be forged)."""
    text = one_line(text, width).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
