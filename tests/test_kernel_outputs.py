"""What a kernel's cells store (instructor.engine.outputs), without a kernel: the cap on what one
cell stores, the caller's own cells that keep one kind of display only, and the merging of
stream outputs."""
import random

import nbformat
import pytest
from nbclient.client import _RGX_CARRIAGERETURN

import lab_submissions  # noqa: F401  (puts the project on sys.path)
from instructor.engine.outputs import (MAX_CELL_OUTPUT, OutputCappedClient, coalesce_streams,
                                       drop_overwritten, output_size)


def stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


@pytest.mark.parametrize("text", ["", "plain\nlines\n", "ab\rc", "ab\r", "ab\r\ncd", "a\rb\r",
                                  "\r\r", "12%\r50%\r100%\ndone\r\n", "x\r\ry\rz\n\r"])
def test_carriage_returns_follow_nbclients_rule(text):
    assert drop_overwritten(text) == _RGX_CARRIAGERETURN.sub("", text)


def test_carriage_returns_follow_nbclients_rule_on_random_text():
    rng = random.Random(0)
    for _ in range(2000):
        text = "".join(rng.choice("ab\r\n") for _ in range(rng.randrange(12)))
        assert drop_overwritten(text) == _RGX_CARRIAGERETURN.sub("", text), repr(text)


def test_streams_are_merged_where_they_first_appeared_stdout_before_a_following_stderr():
    image = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    merged = coalesce_streams([stream("warning\n", "stderr"), stream("a\n"), image,
                               stream("b\rc\n"), stream("more\n", "stderr")])
    assert [(o.output_type, o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nc\n"), ("stream", "stderr", "warning\nmore\n"),
        ("display_data", None, None)]


def test_a_long_line_is_merged_in_linear_time():
    # nbclient's regular expression takes time quadratic in a line's length: these lines would
    # keep it busy for hours. Linear, it is instant (no timing asserted: the test would hang).
    line = "x" * MAX_CELL_OUTPUT
    [merged] = coalesce_streams([stream(line[:10]), stream(line[10:] + "\r!\n" + line)])
    assert merged.text == "!\n" + line


def _client():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("loop()")])
    client = OutputCappedClient(notebook)
    client.reset_execution_trackers()  # as nbclient does before a run,
    client.clear_before_next_output = False  # and before each cell
    return client, notebook.cells[0].outputs


def _message(msg_type, **content):
    return {"msg_type": msg_type, "header": {"msg_type": msg_type},
            "parent_header": {"msg_id": "m"}, "content": content}


def test_a_cell_stores_its_output_up_to_the_cap_and_counts_the_rest():
    client, outs = _client()
    chunk = "x" * (MAX_CELL_OUTPUT // 3 + 1)
    for _ in range(4):
        client.output(outs, _message("stream", name="stdout", text=chunk), None, 0)
    assert sum(len(o.text) for o in outs) == MAX_CELL_OUTPUT  # the third chunk was cut to fit
    assert client.dropped[0] == 4 * len(chunk) - MAX_CELL_OUTPUT
    image = _message("display_data", data={"image/png": "A" * 10}, metadata={})
    client.output(outs, image, None, 0)
    assert len(outs) == 3 and client.dropped[0] == 4 * len(chunk) - MAX_CELL_OUTPUT + 10
    client.forget(0)
    assert 0 not in client.dropped and client.output(outs, image, None, 0) is not None


def test_the_callers_own_cell_keeps_only_its_answer_up_to_its_limit():
    """A grader's call: only displays of its MIME type are kept, up to its limit; whatever a
    thread the notebook left running prints or displays meanwhile is dropped and counted."""
    client, outs = _client()
    client.keep_only = ("application/x-answer+json", 60)
    client.output(outs, _message("stream", name="stdout", text="p" * 50), None, 0)
    client.output(outs, _message("display_data", data={"image/png": "i" * 30}, metadata={}), None, 0)
    answer = _message("display_data", data={"application/x-answer+json": {"v": "a" * 40}}, metadata={})
    client.output(outs, answer, None, 0)
    assert [list(o.data) for o in outs] == [["application/x-answer+json"]]
    assert client.dropped[0] == 50 + 30
    client.output(outs, answer, None, 0)  # a second answer would pass the limit of 60
    assert len(outs) == 1 and client.dropped[0] == 80 + output_size(answer["content"])


def test_clearing_the_output_gives_the_allowance_back():
    client, outs = _client()
    frame = "y" * (MAX_CELL_OUTPUT // 2)
    for _ in range(6):  # a display that redraws itself: clear, then draw again
        client.clear_output(outs, _message("clear_output", wait=False), 0)
        client.output(outs, _message("stream", name="stdout", text=frame), None, 0)
    for _ in range(3):
        client.clear_output(outs, _message("clear_output", wait=True), 0)
        client.output(outs, _message("stream", name="stdout", text=frame), None, 0)
    assert [len(o.text) for o in outs] == [len(frame)] and not client.dropped


@pytest.mark.parametrize("content, size", [
    ({"name": "stdout", "text": "abc"}, 3),
    ({"data": {"text/plain": "ab", "image/png": "abcd"}, "metadata": {}}, 6),
    ({"ename": "E", "evalue": "v", "traceback": ["line 1", "line 2"]}, 12),
    ({"data": {"application/json": {"a": 1}}}, len('{"a": 1}')),
    (None, 0),
])
def test_output_size_counts_text_data_and_traceback(content, size):
    assert output_size(content) == size
