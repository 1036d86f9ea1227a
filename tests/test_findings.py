"""The detectors of instructor/findings, without a kernel: the static reading of a notebook's
code, the check cells put back, the files beside a submission and the stored outputs compared
with a fresh run. None of them decides a mark; these tests pin what each names and at which
severity (honest habits: warnings at most)."""
import copy
import shutil

import nbformat
import pytest

from lab_submissions import (ROOT, cell_index, completed, insert_code_cell,
                             source_notebook)  # first: it puts the project on sys.path
from instructor.engine.kernel import CellResult
from instructor.findings import check_cells, files, static_scan
from instructor.findings.outputs import compared_cells, load_patterns, output_findings


def _scan(*sources):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    return static_scan.static_findings(notebook)


def _kinds(findings):
    return {(item.kind, item.severity) for item in findings}


@pytest.mark.parametrize("code, kind", [
    # the lab's checks redefined
    ("def test_model(*args):\n    pass", "check_redefined"),
    ("test_my_softmax = print", "check_redefined"),
    ("from os import path as test_model", "check_redefined"),
    ("globals()['test_model'] = print", "check_redefined"),
    ("import public_tests\npublic_tests.test_model = print", "check_redefined"),
    # libraries patched, objects of them included
    ("import numpy as xp\nxp.allclose = max", "monkeypatch"),
    ("import builtins\nbuiltins.print = len", "monkeypatch"),
    ("import tensorflow as tf\nsetattr(tf.nn, 'softmax', abs)", "monkeypatch"),
    ("setattr(__import__('numpy._core.numeric', fromlist=['x']), 'isclose', max)", "monkeypatch"),
    ("model.predict = lambda *a, **k: None", "monkeypatch"),
    ("setattr(model, 'evaluate', print)", "monkeypatch"),
    ("import keras\nkeras.Model.predict = print", "monkeypatch"),
    # the lab's files
    ("%%writefile public_tests.py\ndef test_model(*a): pass", "helper_file_written"),
    ("open('public_tests.py', 'w').write('')", "helper_file_written"),
    # code that runs inside other code
    ("import sys\nsys.addaudithook(print)", "hook_installed"),
    ("get_ipython().events.register('pre_run_cell', print)", "hook_installed"),
    ("get_ipython().input_transformers_cleanup.append(list)", "hook_installed"),
    ("hooks = get_ipython().ast_transformers\nhooks.append(object())", "hook_installed"),
    ("import sys\nsys.settrace(print)", "hook_installed"),
    # the interpreter's state walked
    ("import gc\nobjects = gc.get_objects()", "introspection"),
    ("import sys\nframe = sys._getframe(1)", "introspection"),
    ("def f():\n    import inspect\n    return inspect.currentframe().f_back.f_locals", "introspection"),
])
def test_static_scan_names_each_trick_as_tampering(code, kind):
    findings = _scan(code)
    assert (kind, "tampering") in _kinds(findings), findings


@pytest.mark.parametrize("code, kind", [
    ("import threading\nthreading.Thread(target=print, daemon=True).start()", "thread_started"),
    ("import _thread\n_thread.start_new_thread(print, ())", "thread_started"),
    ("import public_tests\nmy_softmax = public_tests._softmax", "answer_uses_checks"),
    ("import public_tests\ndef my_softmax(z):\n    return public_tests._softmax(z)",
     "answer_uses_checks"),
    ("from numpy import *", "star_import"),
    ("exec('x = 1')", "suspicious_call"),
])
def test_static_scan_names_honest_looking_habits_as_warnings(code, kind):
    findings = _scan(code)
    assert (kind, "warning") in _kinds(findings), findings
    assert all(item.severity == "warning" for item in findings), findings


@pytest.mark.parametrize("code", [
    "import gc\ngc.collect()",
    "import inspect\nprint(inspect.signature(print))",
    "%timeit sum(range(10))",
    "!ls data",
    "import numpy as np\nnp.set_printoptions(precision=3)",
    "history = model.fit(X, y)\nmodel.summary()",
])
def test_static_scan_leaves_ordinary_code_alone(code):
    assert _scan(code) == []


def test_static_scan_accepts_the_lab_itself_and_a_cell_it_cannot_parse():
    assert static_scan.static_findings(source_notebook()) == []
    assert _scan("def broken(:\n    pass") == []


# --- the check cells put back ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def solved():
    return completed(source_notebook())


def _restored(notebook):
    return check_cells.restore(source_notebook(), notebook)


def test_an_unchanged_notebook_is_run_as_it_is(solved):
    restored = _restored(solved)
    assert restored.findings == []
    assert [c.source for c in restored.notebook.cells] == [c.source for c in solved.cells]


def test_a_deleted_check_is_put_back_where_it_was(solved):
    notebook = copy.deepcopy(solved)
    index = cell_index(notebook, "exercise_1", "check")
    del notebook.cells[index]
    restored = _restored(notebook)
    assert [(f.kind, f.exercise) for f in restored.findings] == [("check_cell_deleted", "exercise_1")]
    assert restored.notebook.cells[index].source == solved.cells[index].source
    assert restored.origin[index] is None


def test_an_edited_check_runs_as_the_instructor_wrote_it(solved):
    notebook = copy.deepcopy(solved)
    index = cell_index(notebook, "exercise_2", "check")
    notebook.cells[index].source = 'print("test_model: All tests passed!")'
    restored = _restored(notebook)
    assert [(f.kind, f.severity) for f in restored.findings] == [("check_cell_edited", "tampering")]
    assert restored.notebook.cells[index].source == solved.cells[index].source


def test_a_check_moved_above_its_solution_is_a_warning_not_a_deletion(solved):
    notebook = copy.deepcopy(solved)
    index = cell_index(notebook, "exercise_1", "check")
    cell = notebook.cells.pop(index)
    notebook.cells.insert(cell_index(notebook, "exercise_1", "solution"), cell)
    kinds = _kinds(_restored(notebook).findings)
    assert ("check_cell_moved", "warning") in kinds
    assert not any(kind == "check_cell_deleted" for kind, _ in kinds)


def test_a_check_kept_with_an_extra_line_is_a_warning(solved):
    notebook = copy.deepcopy(solved)
    index = cell_index(notebook, "exercise_1", "check")
    notebook.cells[index].source = "print(my_softmax(np.array([1.0, 2.0])))\n" + \
        notebook.cells[index].source
    assert _kinds(_restored(notebook).findings) == {("check_cell_kept_and_extended", "warning")}


def test_moved_metadata_does_not_move_the_check(solved):
    notebook = insert_code_cell(solved, 3, "print('scratch')")
    check = notebook.cells[cell_index(notebook, "exercise_1", "check")]
    notebook.cells[3].metadata["lab"] = dict(check.metadata["lab"])
    restored = _restored(notebook)
    assert _kinds(restored.findings) == {("check_metadata_moved", "warning")}
    assert restored.notebook.cells[3].source == "print('scratch')"


# --- the files beside a submission ---------------------------------------------------------------

def test_an_edited_public_tests_beside_the_notebook_is_named(tmp_path):
    for name in ("public_tests.py", "autils.py"):
        shutil.copyfile(ROOT / name, tmp_path / name)
    assert files.submitted_file_findings([tmp_path]) == []
    path = tmp_path / "public_tests.py"
    path.write_text(path.read_text().replace("rtol=1e-4", "rtol=1e9"))
    [found] = files.submitted_file_findings([tmp_path, None])
    assert (found.kind, found.severity) == ("public_tests_modified", "tampering")
    assert "the grader used its own" in found.message


def test_a_submitted_link_is_named_and_never_followed(tmp_path):
    (tmp_path / "public_tests.py").symlink_to("/proc/kcore")  # a file that never ends, for root
    (tmp_path / "autils.py").symlink_to(ROOT / "autils.py")  # the instructor's own file
    found = {item.message.split(" ")[0]: item for item in files.submitted_file_findings([tmp_path])}
    assert set(found) == {str(tmp_path / "public_tests.py"), str(tmp_path / "autils.py")}
    assert "is a link to /proc/kcore, instead of the instructor's" in \
        found[str(tmp_path / "public_tests.py")].message


def test_a_file_of_another_size_is_not_read(tmp_path, monkeypatch):
    big = tmp_path / "data" / "ex3data1.mat"
    big.parent.mkdir()
    with open(big, "wb") as file:
        file.truncate(10 * 2**30)  # sparse: ten gigabytes long, nothing on disk
    monkeypatch.setattr(files, "file_hash", lambda path: pytest.fail(f"{path} was read"))
    [found] = files.submitted_file_findings([tmp_path])
    assert found.kind == "submitted_file_differs" and "ex3data1.mat differs" in found.message


def test_a_link_left_in_the_work_folder_is_a_change_never_followed(tmp_path):
    shutil.copyfile(ROOT / "public_tests.py", tmp_path / "public_tests.py")
    before = files.hashes(tmp_path, ["public_tests.py"])
    (tmp_path / "public_tests.py").unlink()
    (tmp_path / "public_tests.py").symlink_to(ROOT / "public_tests.py")  # same bytes, a link
    [found] = files.workdir_findings(before, tmp_path)
    assert found.kind == "public_tests_modified"


# --- stored outputs against a fresh run ------------------------------------------------------------

def _with_output(text):
    cell = nbformat.v4.new_code_cell("print(x)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
    return nbformat.v4.new_notebook(cells=[cell])


@pytest.mark.parametrize("stored, fresh, kind", [
    ("loss after epoch 40: 0.0279\n", "loss after epoch 40: 0.0279\n", None),
    ("loss after epoch 40: 0.0279\n", "loss after epoch 40: 0.0281\n", "outputs_numbers_differ"),
    ("17 errors out of 5000 images\n", "18 errors out of 5000 images\n", "outputs_edited"),
    ("\x1b[92mtest_model: All tests passed!\x1b[0m\n", "", "outputs_edited"),
    ("<function f at 0x7f3a2c1d9e50>\n", "<function f at 0x7f00aa11bb22>\n", None),
    ("x" * 20_000 + "\n", "y\n", "outputs_not_compared"),
])
def test_stored_outputs_are_compared_as_nbval_does(stored, fresh, kind):
    findings, compared = output_findings(_with_output(stored), _with_output(fresh),
                                         [CellResult(0, "ok")], load_patterns())
    assert [f.kind for f in findings] == ([kind] if kind else [])
    assert all(f.severity == "warning" for f in findings)  # marks never depend on them
    assert compared == (0 if kind == "outputs_not_compared" else 1)


def test_a_cell_whose_output_was_cut_off_is_not_compared():
    stored, fresh = _with_output("0\n1\n2\n" * 10), _with_output("0\n1\n[grader: ... cut off]\n")
    assert output_findings(stored, fresh, [CellResult(0, "ok")], load_patterns())[0]
    cut_off = [CellResult(0, "ok", dropped_output=5)]
    assert compared_cells(stored, cut_off) == []
    assert output_findings(stored, fresh, cut_off, load_patterns()) == ([], 0)
