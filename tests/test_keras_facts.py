"""What the lab's text says about Keras and TensorFlow, measured on the installed versions, and the
lab's training helper autils.fit_model.

Each test names the place in the notebook whose sentence it guards. They need TensorFlow (a few
seconds to import, once per test run) but no kernel.
"""
import math

import numpy as np
import pytest

import autils

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

CAP = -math.log(1e-7)  # the largest loss Keras reports from probabilities: 16.118


def confident_mistake(gap=20.0):
    """Logits [0, 0, -gap] with true class 2, as in section 4.5."""
    return tf.constant([[0.0, 0.0, -gap]]), np.array([2])


def loss_after(probabilities, labels):
    return float(keras.losses.SparseCategoricalCrossentropy()(labels, probabilities))


# --- section 4.5: what the loss does with probabilities ------------------------------------------

def test_keras_clips_probabilities_to_1e7_so_a_confident_mistake_costs_at_most_16():
    logits, labels = confident_mistake(20.0)
    probability = float(tf.nn.softmax(logits)[0, 2])
    assert 1e-9 < probability < 1.1e-9  # "small but not zero"
    assert keras.backend.epsilon() == 1e-7
    assert loss_after(tf.nn.softmax(logits), labels) == pytest.approx(CAP, abs=1e-3)
    exact = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits))
    assert exact == pytest.approx(20.0 + math.log(2.0), abs=1e-3)  # 20.693


def test_the_curves_behind_section_4_5_figure():
    curves = autils.softmax_loss_curves()
    gap = curves["gap"]
    assert gap[0] == 0 and gap[-1] == 40
    # From the logits: the true loss, growing with the gap; its gradient's size reaches
    # sqrt(1.5) = 1.225 (a - onehot(2) = [0.5, 0.5, -1]) and stays there.
    np.testing.assert_allclose(curves["loss_from_logits"], gap + np.log(2 + np.exp(-gap)), rtol=1e-5)
    assert np.all(np.abs(curves["gradient_from_logits"][gap >= 5] - math.sqrt(1.5)) < 1e-2)
    # After an explicit softmax: the same until the loss reaches the cap (a gap of about 16,
    # where the notebook's dotted line is), then the cap and a gradient of about 0.
    parted = gap[np.argmax(np.abs(curves["loss_after_softmax"] - curves["loss_from_logits"]) > 0.01)]
    assert 15 < parted < 17
    before, after = gap < parted - 0.5, gap > parted + 0.5
    np.testing.assert_allclose(curves["loss_after_softmax"][before], curves["loss_from_logits"][before],
                               rtol=1e-4)
    np.testing.assert_allclose(curves["loss_after_softmax"][after], CAP, atol=1e-3)
    assert np.max(curves["gradient_after_softmax"][after]) < 1e-6


def test_what_keras_rescues_with_the_tensorflow_backend():
    """Section 4.5: probabilities made by Keras's own softmax, or by a softmax operation inside a
    compiled TensorFlow function, are rescued; probabilities made any other way are clipped."""
    logits, labels = confident_mistake(20.0)
    true_loss = 20.0 + math.log(2.0)
    assert keras.backend.backend() == "tensorflow"
    assert loss_after(keras.ops.softmax(logits), labels) == pytest.approx(true_loss, abs=1e-3)
    output_layer = keras.layers.Activation("softmax")  # what Dense(10, activation="softmax") applies
    assert loss_after(output_layer(logits), labels) == pytest.approx(true_loss, abs=1e-3)
    compiled = tf.function(lambda z: keras.losses.SparseCategoricalCrossentropy()(labels,
                                                                                  tf.nn.softmax(z)))
    assert float(compiled(logits)) == pytest.approx(true_loss, abs=1e-3)
    # Clipped: tf.nn.softmax outside a compiled function, NumPy, and any further operation.
    assert loss_after(tf.nn.softmax(logits), labels) == pytest.approx(CAP, abs=1e-3)
    assert loss_after(tf.nn.softmax(logits).numpy(), labels) == pytest.approx(CAP, abs=1e-3)
    further = tf.function(lambda z: keras.losses.SparseCategoricalCrossentropy()(
        labels, tf.nn.softmax(z) * 1.0))
    assert float(further(logits)) == pytest.approx(CAP, abs=1e-3)


def test_the_gradient_of_the_cross_entropy_is_a_minus_onehot():
    """Section 3: dL/dz = a - onehot(y)."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        z = tf.Variable(rng.normal(0, 3, (1, 6)))
        label = int(rng.integers(6))
        with tf.GradientTape() as tape:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([label]), z)
        expected = tf.nn.softmax(z).numpy()[0] - np.eye(6)[label]
        np.testing.assert_allclose(tape.gradient(loss, z).numpy()[0], expected, atol=1e-6)


# --- section 4.6: the untrained network ---------------------------------------------------------

def lab_model():
    keras.utils.set_random_seed(1234)
    model = keras.Sequential([keras.Input(shape=(400,)), keras.layers.Dense(25, activation="relu"),
                              keras.layers.Dense(15, activation="relu"), keras.layers.Dense(10)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(learning_rate=0.001))
    return model


@pytest.fixture(scope="module")
def data():
    return autils.load_data()


def test_an_untrained_network_is_near_ln_10_unless_the_pixels_are_not_scaled(data):
    X, y = data
    model = lab_model()
    assert abs(model.evaluate(X, y, verbose=0) - math.log(10)) < 0.2
    # "A value far from 2.3 would mean ... pixels that are not scaled to about 0 to 1".
    assert model.evaluate(X * 255, y, verbose=0) > 10


# --- autils.fit_model -----------------------------------------------------------------------------

def test_fit_model_takes_the_steps_keras_fit_takes(data):
    """One batch per epoch (32 examples): fit_model and Keras's own fit take the very same
    optimizer steps on the compiled loss, so their weights agree to rounding."""
    X, y = data
    X, y = X[::160][:32], y[::160][:32]
    ours, theirs = lab_model(), lab_model()
    history = autils.fit_model(ours, X, y, epochs=3, print_every=0)
    keras_history = theirs.fit(X, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], keras_history.history["loss"], rtol=1e-5)
    for mine, keras_weights in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, keras_weights, atol=1e-6)


def test_fit_model_is_reproducible_and_logs_what_it_says(data, capsys):
    X, y = data
    X, y = X[::10], y[::10]  # 500 images: 16 batches per epoch
    runs = []
    for _ in range(2):
        model = lab_model()
        history = autils.fit_model(model, X[:400], y[:400], epochs=4, test_data=(X[400:], y[400:]),
                                   print_every=2)
        runs.append((history.history, [w.copy() for w in model.get_weights()]))
    (first, weights), (second, again) = runs
    assert first == second
    for a, b in zip(weights, again):
        np.testing.assert_array_equal(a, b)
    assert sorted(first) == ["accuracy", "loss", "test_accuracy", "test_loss"]
    assert all(len(values) == 4 for values in first.values())
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed] == ["epoch  1", "epoch  2", "epoch  4"] * 2
    assert printed[-1] == (f"epoch  4: loss {first['loss'][3]:.4f}, accuracy "
                           f"{first['accuracy'][3]:6.1%} | test images: loss "
                           f"{first['test_loss'][3]:.4f}, accuracy {first['test_accuracy'][3]:6.1%}")
    # The test numbers are the model's loss and accuracy on the test images after the last epoch.
    outputs = model.predict(X[400:], verbose=0)
    assert first["test_accuracy"][3] == np.mean(np.argmax(outputs, axis=1) == y[400:].ravel())
    expected = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y[400:], outputs))
    assert first["test_loss"][3] == pytest.approx(expected, rel=1e-5)


def test_fit_model_continues_with_new_batch_orders(data):
    X, y = data
    X, y = X[::10], y[::10]
    once = lab_model()
    autils.fit_model(once, X, y, epochs=2, print_every=0)
    twice = lab_model()
    autils.fit_model(twice, X, y, epochs=1, print_every=0)
    autils.fit_model(twice, X, y, epochs=1, print_every=0)
    for a, b in zip(once.get_weights(), twice.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)  # the second call did not repeat epoch 1


def test_a_model_frozen_whole_trains_nothing_as_with_keras_fit(data):
    X, y = data
    model = lab_model()
    model.trainable = False
    before = [w.copy() for w in model.get_weights()]
    history = autils.fit_model(model, X[::50], y[::50], epochs=2, print_every=0)
    assert len(history.history["loss"]) == 2
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call, message", [
    (lambda m, X, y: autils.fit_model(keras.Sequential([keras.Input((400,)), keras.layers.Dense(3)]),
                                      X, y, 1), "model should be compiled"),
    (lambda m, X, y: autils.fit_model(m, X[0], y, 1), "X should be a 2-D array"),
    (lambda m, X, y: autils.fit_model(m, X, y[:10], 1), "y has 10 entries but X has"),
    (lambda m, X, y: autils.fit_model(m, X, y, 0), "epochs should be a whole number >= 1"),
    (lambda m, X, y: autils.fit_model(m, X, y, 1, test_data=X), "test_data should be a pair"),
    (lambda m, X, y: autils.fit_model(m, X, y, 1, test_data=(X[:, :10], y)), r"X_test should have shape \(m, 400\)"),
])
def test_fit_model_errors_name_the_argument(data, call, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        call(lab_model(), X[:64], y[:64])
