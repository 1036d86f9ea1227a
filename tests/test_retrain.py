"""What the grader builds from the architecture a kernel reports (instructor/grading/retrain.py
and exercises.judge_model), without training: a config is checked for Keras's own classes and
for its sizes before any weight exists, so a 1 KB config cannot make the grader allocate
gigabytes, and anything else refused says why."""
import copy

import pytest

import lab_submissions  # noqa: F401  (puts the project on sys.path)
from instructor.grading import exercises, retrain
from instructor.lab import spec

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def reference():
    return exercises.reference_config(keras)


def _layers(config):
    return config["config"]["layers"]


def _dense(config, number):
    return [layer for layer in _layers(config) if layer["class_name"] == "Dense"][number]


def test_the_expected_architecture_passes_both_checks_and_builds(reference):
    retrain.check_config(reference)
    retrain.check_sizes(reference)
    model = retrain.build(reference, keras)
    assert model.count_params() == 10_575


@pytest.mark.parametrize("units, words", [
    (1_500_000, "layer 'L1' \\(Dense\\) declares a size of 1,500,000; the grader builds layers of "
                "at most 100,000"),
    (60_000, "would hold about"),  # under the unit bound, but (400 + 1) x 60,000 weights
])
def test_a_layer_too_large_is_refused_before_anything_is_built(reference, units, words):
    config = copy.deepcopy(reference)
    _dense(config, 0)["config"].update(units=units, name="L1")  # named by its name
    with pytest.raises(retrain.ArchitectureError, match=words):
        retrain.build(config, keras)


def test_a_model_of_too_many_layers_is_refused(reference):
    config = copy.deepcopy(reference)
    dense = _dense(config, 1)
    _layers(config).extend(copy.deepcopy(dense) for _ in range(retrain.MAX_LAYERS))
    with pytest.raises(retrain.ArchitectureError, match=f"builds at most {retrain.MAX_LAYERS}"):
        retrain.check_sizes(config)


@pytest.mark.parametrize("change, words", [
    (lambda layer: layer.update(module="os", class_name="system"), "only Keras's own classes"),
    (lambda layer: layer.update(class_name="Lambda"), "runs arbitrary code"),
    (lambda layer: layer.update(registered_name="Custom>Dense"), "registered custom object"),
])
def test_anything_but_kerass_own_classes_is_refused(reference, change, words):
    config = copy.deepcopy(reference)
    change(_dense(config, 0))
    with pytest.raises(retrain.ArchitectureError, match=words):
        retrain.check_config(config)


def test_a_refused_architecture_fails_the_exercise_with_the_reason(reference):
    config = copy.deepcopy(reference)
    _dense(config, 0)["config"]["units"] = 1_500_000
    result = exercises.judge_model(spec.exercise("exercise_2"), {"config": config, "type": "x"},
                                   ("ok", ""))
    assert not result.passed and result.points == 0
    assert "could not rebuild and train your architecture" in result.message
    assert "1,500,000" in result.message
