"""The hidden checks of :mod:`instructor.grading.hidden_checks`, applied inside a notebook's
kernel under nbgrader.

Under nbgrader there is no grader process beside the kernel: the hidden tests run in the test
cell itself, on the student's live objects. This module is the bridge. ``python -m instructor
export-nbgrader`` embeds its source, with the source of ``hidden_checks.py`` and ``retrain.py``,
between nbgrader's hidden-test markers (nbgrader removes that region from the students' copy and
puts it back to autograde), so there is still one definition of each hidden check.

The hidden inputs derive from a secret drawn at export time (embedded in the hidden region, so
in no student's copy and, with the export's feedback settings, in no feedback) and the student's
id, the name of the folder nbgrader autogrades their notebook in. It imports nothing of this
project: the modules it needs are passed in.
"""
import os

MARKER = "[hidden tests]"  # printed first by the hidden region: feedback shows nothing after it


def student_id():
    """The student nbgrader is autograding: it runs each notebook in
    autograded/<student>/<assignment>/, the kernel's working folder."""
    parts = os.path.abspath(os.getcwd()).split(os.sep)
    return parts[-2] if len(parts) >= 2 else "student"


def function_failures(hidden_checks, kind, function, secret, exercise):
    """Failures of the student's ``function`` on hidden inputs of the exercise's ``kind``."""
    seed = hidden_checks.seed_for(bytes.fromhex(secret), student_id(), exercise)
    return hidden_checks.check_function(kind, function, seed)


def model_failures(hidden_checks, model, retrain):
    """Failures of the student's ``model``, judged as the grader judges it: its architecture is
    rebuilt from its Keras config and trained with the lab's settings (``retrain``, the module
    :mod:`instructor.grading.retrain`), then ``hidden_checks.check_model`` runs on that copy.

    The check cell comes before the notebook's training cell, so the student's own model is not
    trained yet; the copy is. Rebuilding sets the lab's seed, as the notebook does before it
    builds the model: the cells after the check then run from that seed.
    """
    import keras
    from autils import load_data

    X, y = load_data()
    try:
        config = keras.saving.serialize_keras_object(model)
    except Exception as error:  # a model Keras cannot describe: report it as the grader does
        return [f"the architecture of model ({type(model).__name__}) could not be read: "
                f"{type(error).__name__}: {str(error)[:300]}"]
    try:
        rebuilt = retrain.build(config, keras)
        retrain.train(rebuilt, keras, X, y)
    except retrain.ArchitectureError as error:
        return [f"the grader could not rebuild and train your architecture: {error}"]
    return hidden_checks.check_model(rebuilt, keras, X, y)


def assert_passes(title, failures):
    """Raise AssertionError naming the exercise and every failure, if there is any (the
    instructor sees it in the autograded notebook; the export's feedback settings never show it
    to the student)."""
    if failures:
        raise AssertionError(f"{title}: the hidden checks failed:\n- " + "\n- ".join(failures))
    print(f"{title}: hidden checks passed")
