"""Exercise 2 is graded on the student's architecture, retrained here with the lab's settings.

Only the model's Keras config leaves the kernel. The grader checks that it names nothing but
Keras's own classes and that its sizes are within :data:`MAX_UNITS` and :data:`MAX_PARAMETERS`
(before anything is built: a 1 KB config can ask for gigabytes), rebuilds the model from it with
Keras's safe mode, and trains it exactly as the notebook's training cell does (same seed before
the model is built, same optimizer, loss, epochs and data, and the lab's own training loop,
``autils.fit_model``). Weights the student loaded or set by hand never reach the grader, so they
earn nothing; an honest architecture gets the very weights the notebook got (measured: the
losses match the notebook's stored ones to the last printed digit).
"""
import copy
import hashlib
import json
import threading
import time
from dataclasses import dataclass

import numpy as np

# The lab's training, as the notebook's model and training cells do it; the training loop itself
# is the lab's own autils.fit_model, which the notebook calls too.
SEED = 1234
LEARNING_RATE = 0.001
EPOCHS = 40
MAX_CONFIG_DEPTH = 32  # also the depth of the kernel's reply values.py reads
# Sizes a config may declare, checked before Keras builds anything (the lab's model: 25 units at
# most, 10,575 parameters). Keys whose numbers size a layer's weights:
SIZE_KEYS = ("units", "filters", "input_dim", "output_dim", "kernel_size", "batch_shape",
             "batch_input_shape", "shape", "input_shape", "target_shape", "dims")
MAX_UNITS = 100_000  # any one of those numbers
MAX_PARAMETERS = 5_000_000  # the weights the config's layers would hold, estimated
MAX_LAYERS = 64


class ArchitectureError(ValueError):
    """The recorded config is not a model the grader will build (the message says why)."""


@dataclass
class Retrained:
    """The model rebuilt from the student's config and trained by the grader.

    Attributes:
      model: the trained Keras model.
      first_loss, last_loss: the training loss after the first and the last epoch.
      seconds: how long the training took.
    """
    model: object
    first_loss: float
    last_loss: float
    seconds: float
    reused: bool = False


def check_config(config, depth=0, where="model"):
    """Refuse a config that names anything but Keras's own classes.

    Raises:
      ArchitectureError: a class from another module, a registered custom object, a lambda,
        or a config nested deeper than MAX_CONFIG_DEPTH.
    """
    if depth > MAX_CONFIG_DEPTH:
        raise ArchitectureError(f"{where}: the config is nested deeper than {MAX_CONFIG_DEPTH}")
    if isinstance(config, dict):
        if "module" in config or "class_name" in config:
            module, name = config.get("module"), config.get("class_name")
            if not isinstance(module, str) or module.split(".")[0] != "keras":
                raise ArchitectureError(f"{where}: {name!r} comes from module {module!r}; only "
                                        f"Keras's own classes are accepted")
            if config.get("registered_name") not in (None, name):
                raise ArchitectureError(f"{where}: {name!r} is a registered custom object "
                                        f"({config.get('registered_name')!r})")
            if name in ("Lambda", "function", "__lambda__"):
                raise ArchitectureError(f"{where}: a {name} layer or function runs arbitrary code")
        for key, value in config.items():
            check_config(value, depth + 1, f"{where}.{key}")
    elif isinstance(config, list):
        for number, value in enumerate(config):
            check_config(value, depth + 1, f"{where}[{number}]")


def check_sizes(config):
    """Refuse a config whose layers would be too large to build, before anything is built.

    Every number under a :data:`SIZE_KEYS` key must be at most :data:`MAX_UNITS`; the weights
    are estimated layer by layer (a Dense layer: (inputs + 1) x units; another layer: the
    product of its size numbers) and must add up to at most :data:`MAX_PARAMETERS`.

    Raises:
      ArchitectureError: the size that passes its bound, and the bound.
    """
    layers = _layer_configs(config)
    if len(layers) > MAX_LAYERS:
        raise ArchitectureError(f"the model has {len(layers)} layers; the grader builds at most "
                                f"{MAX_LAYERS}")
    width, total = None, 0
    for number, (class_name, layer) in enumerate(layers, start=1):
        sizes = [n for key in SIZE_KEYS for n in _numbers(layer.get(key))]
        too_large = [n for n in sizes if n > MAX_UNITS]
        if too_large:
            name = layer.get("name")
            which = f"{name!r}" if isinstance(name, str) and name else f"number {number}"
            raise ArchitectureError(f"layer {which} ({class_name}) declares a size of "
                                    f"{too_large[0]:,}; the grader builds layers of at most "
                                    f"{MAX_UNITS:,}")
        if class_name == "InputLayer" and sizes:
            width = sizes[-1]
        elif class_name == "Dense" and isinstance(layer.get("units"), int):
            declared = [n for key in ("batch_shape", "batch_input_shape", "input_shape")
                        for n in _numbers(layer.get(key))]
            inputs = declared[-1] if declared else (width or 1)
            total += (inputs + 1) * layer["units"]
            width = layer["units"]
        elif sizes:
            total += int(np.prod(sizes, dtype=np.float64))
        if total > MAX_PARAMETERS:
            raise ArchitectureError(f"the model would hold about {total:,} weights by layer "
                                    f"{number}; the grader builds models of at most "
                                    f"{MAX_PARAMETERS:,}")


def _layer_configs(config):
    """[(class name, its config dict)] of the layers of a Sequential's config, in order (the
    config itself, for another model)."""
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return [(str(config.get("class_name")), inner if isinstance(inner, dict) else {})]
    found = [(str(layer.get("class_name")), layer.get("config") or {})
             for layer in layers if isinstance(layer, dict)]
    build_config = config.get("build_config")
    if isinstance(build_config, dict) and build_config.get("input_shape"):
        found.insert(0, ("InputLayer", {"shape": build_config["input_shape"],
                                        "name": "the input the model was built for"}))
    return found


def _numbers(value):
    """The integers in a config value: a number, or a list or tuple of them (None dropped)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    return []


def build(config, keras):
    """The untrained model of ``config``, with the initial weights the notebook's seed gives.

    Raises:
      ArchitectureError: the config is refused by :func:`check_config`, or Keras cannot build it.
    """
    if not isinstance(config, dict):
        raise ArchitectureError(f"the model's config is a {type(config).__name__}, expected a dict")
    check_config(config)
    check_sizes(config)
    keras.utils.set_random_seed(SEED)  # the notebook sets it just before building the model
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as error:
        raise ArchitectureError(f"Keras could not rebuild the model from its config "
                                f"({type(error).__name__}: {str(error)[:200]})") from None
    if not isinstance(model, keras.Model):
        raise ArchitectureError(f"the config describes a {type(model).__name__}, not a Keras model")
    return model


def _autils():
    """The instructor's autils (its fit_model is the lab's training); the nbgrader export
    replaces this with the kernel's own autils, which nbgrader restores from the source."""
    from instructor.lab.files import instructor_module
    return instructor_module("autils")


def train(model, keras, X, y):
    """Train a model made by :func:`build` as the notebook's training cell does.

    Args:
      model: the untrained model.
      keras: the keras module.
      X (ndarray (m, 400)), y (ndarray (m, 1)): the lab's digits.
    Returns:
      a :class:`Retrained`.
    Raises:
      ArchitectureError: training failed (e.g. the model does not take 400 inputs).
    """
    started = time.monotonic()
    try:
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE))
        losses = _autils().fit_model(model, X, y, EPOCHS, print_every=0).history["loss"]
    except Exception as error:
        raise ArchitectureError(f"the model could not be trained on the lab's digits "
                                f"({type(error).__name__}: {str(error)[:200]})") from None
    return Retrained(model, float(losses[0]), float(losses[-1]),
                     round(time.monotonic() - started, 2))


# Trainings already done in this process: {(training_key(config), the data and the settings):
# (weights, first loss, last loss, seconds)}.
# Most submissions of a batch have the same architecture, and training is deterministic (the
# seed, then the same operations in the same order: bit-identical weights in every fresh
# process), so a second training of it would give the very same weights.
_done = {}
_done_lock = threading.Lock()


def training_key(config):
    """What the training of a model built from ``config`` depends on: the config without its
    compile settings (:func:`train` uses the lab's) and without the names of a Sequential model
    and its layers, which change nothing in the training (tested: a renamed model gets the same
    weights, bit for bit). Other models keep their names, which their layers' connections
    refer to."""
    config = copy.deepcopy(config)
    if isinstance(config, dict):
        # How the notebook compiled the model: train compiles it with the lab's settings anyway.
        config.pop("compile_config", None)
    inner = config.get("config") if isinstance(config, dict) else None
    if isinstance(inner, dict) and config.get("class_name") == "Sequential":
        inner.pop("name", None)
        for layer in inner.get("layers") or []:
            if isinstance(layer, dict) and isinstance(layer.get("config"), dict):
                layer["config"].pop("name", None)
    return json.dumps(config, sort_keys=True, default=repr)


def train_once(model, config, keras, X, y):
    """:func:`train` the model built from ``config``, or give it the weights a training of the
    :func:`training_key`, data and settings already produced in this process (``reused`` is
    then True)."""
    key = (training_key(config), hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest(),
           SEED, LEARNING_RATE, EPOCHS)
    with _done_lock:  # one training at a time: a second one of the same key waits and reuses
        if key in _done:
            weights, first, last, seconds = _done[key]
            model.set_weights(weights)
            return Retrained(model, first, last, seconds, reused=True)
        trained = train(model, keras, X, y)
        _done[key] = (trained.model.get_weights(), trained.first_loss, trained.last_loss,
                      trained.seconds)
        return trained


def retrain(config, keras, X, y):
    """:func:`build` then :func:`train`: the student's architecture as the notebook trains it."""
    return train(build(config, keras), keras, X, y)
