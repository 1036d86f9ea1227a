"""The figure helpers in autils: what each figure shows (content, not pixels) and input checks."""
import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display needed

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import autils  # noqa: E402
from autils import PALETTE, digit_image  # noqa: E402

M = 5000
RNG_SEED = 7
# softmax_loss_curves needs TensorFlow: the figure test draws these stand-in curves instead.
GAPS = np.linspace(0.0, 40.0, 161)
CURVES = {"gap": GAPS, "loss_from_logits": GAPS + np.log(2.0), "gradient_from_logits": np.full(161, 1.2),
          "loss_after_softmax": np.minimum(GAPS + np.log(2.0), 16.118),
          "gradient_after_softmax": np.where(GAPS + np.log(2.0) < 16.118, 1.2, 0.0)}


@pytest.fixture(scope="module")
def data():
    return autils.load_data()


@pytest.fixture(scope="module")
def predictions(data):
    """Predictions equal to the labels except for 137 rows, each wrong by a known digit."""
    _, y = data
    rng = np.random.default_rng(RNG_SEED)
    y_pred = y.ravel().copy()
    wrong = np.sort(rng.choice(M, 137, replace=False))
    y_pred[wrong] = (y_pred[wrong] + rng.integers(1, 10, len(wrong))) % 10
    return y_pred, wrong


class FakeModel:
    """Stands in for a Keras model: fixed logits, and a record of every predict call."""

    def __init__(self, logits):
        self.logits = np.asarray(logits)
        self.calls = []

    def predict(self, X, batch_size=None, verbose="auto"):
        self.calls.append({"rows": len(X), "batch_size": batch_size, "verbose": verbose})
        return self.logits[: len(X)]


def logits_for(digits, n_classes=10):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(len(digits), n_classes))
    logits[np.arange(len(digits)), digits] += 10.0
    return logits


def sampled(m, n, seed=1234):
    return np.random.default_rng(seed).choice(m, size=n, replace=False)


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def curve(ax):
    """The data of the longest line in ax (not the axis lines through 0)."""
    return max(ax.lines, key=lambda line: len(line.get_xdata())).get_data()


def suptitle(fig):
    return fig.get_suptitle()


def mosaic_tiles(fig, n_tiles, n_cols):
    """(tiles, title texts, frames) of a mosaic figure: its one image cut back into 20x20 tiles,
    the Text objects in tile order, and the frame patches."""
    (ax,) = image_axes(fig)
    mosaic = ax.images[0].get_array()
    tiles = []
    for k in range(n_tiles):
        top, left = autils.tile_origin(k, n_cols)
        tiles.append(np.asarray(mosaic[top:top + 20, left:left + 20]))
    return tiles, list(ax.texts), list(ax.patches)


def test_tile_mosaic_places_tiles_row_by_row_with_blank_gaps():
    tiles = np.arange(5 * 20 * 20, dtype=float).reshape(5, 20, 20)
    mosaic = autils.tile_mosaic(tiles, n_rows=2, n_cols=3)
    band, gap = autils.MOSAIC_LABEL_BAND, autils.MOSAIC_GAP
    assert mosaic.shape == (2 * (band + 20) + gap, 3 * 20 + 2 * gap)
    for k in range(5):
        top, left = autils.tile_origin(k, 3)
        assert (top, left) == ((k // 3) * (band + 20 + gap) + band, (k % 3) * (20 + gap))
        np.testing.assert_array_equal(mosaic[top:top + 20, left:left + 20], tiles[k])
    # Everything that is not a tile is NaN (drawn as background): 5 tiles of 400 pixels are set.
    assert np.count_nonzero(~np.isnan(mosaic)) == 5 * 400


def test_tile_mosaic_rejects_more_tiles_than_cells():
    with pytest.raises(ValueError, match=r"tiles should have shape \(k, h, w\) with k <= 4; found shape \(5, 20, 20\)"):
        autils.tile_mosaic(np.zeros((5, 20, 20)), 2, 2)


# --- figures have the right content ----------------------------------------------------------

def test_act_trio_has_three_titled_and_labelled_axes():
    fig = autils.plt_act_trio()
    assert isinstance(fig, Figure)
    # The formula is the title's second line, where it cannot collide with the curve or the axes.
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["Linear", "Sigmoid", "ReLU"]
    assert [ax.get_title().split("\n")[1] for ax in fig.axes] == [
        "g(z) = z", "g(z) = 1 / (1 + e$^{-z}$)", "g(z) = max(0, z)"]
    assert all(not ax.texts for ax in fig.axes)  # nothing written inside the axes
    for ax in fig.axes:
        assert ax.get_xlabel() == "z" and ax.get_ylabel() == "g(z)"
    z, relu = curve(fig.axes[2])
    np.testing.assert_allclose(relu, np.maximum(0, z))
    z, sigmoid = curve(fig.axes[1])
    np.testing.assert_allclose(sigmoid, 1 / (1 + np.exp(-z)))


def test_display_digit_shows_the_upright_image_and_its_label(data):
    X, y = data
    fig = autils.display_digit(X[1002], label=y[1002])
    (ax,) = fig.axes
    np.testing.assert_array_equal(ax.images[0].get_array(), digit_image(X[1002]))
    assert ax.get_title() == "Label: 2"
    assert ax.get_xlabel() and ax.get_ylabel()
    assert autils.display_digit(X[0]).axes[0].get_title()  # titled even without a label


def test_display_digit_rejects_the_whole_matrix(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"x should be one row of X .*found shape \(5000, 400\)"):
        autils.display_digit(X)


def test_digit_grid_shows_a_reproducible_sample_titled_with_labels(data):
    X, y = data
    fig = autils.display_digit_grid(X, y)
    assert fig.get_size_inches()[0] <= 8
    indices = sampled(M, 64)
    assert len(fig.axes) == 1  # one mosaic image: 64 axes cost ten times as much to draw
    tiles, titles, frames = mosaic_tiles(fig, 64, 8)
    assert len(titles) == 64 and frames == []
    for tile, title, index in zip(tiles, titles, indices):
        np.testing.assert_array_equal(tile, digit_image(X[index]))
        assert title.get_text() == str(y[index, 0])
    assert suptitle(fig)


def test_digit_grid_seed_and_size(data):
    X, y = data
    fig = autils.display_digit_grid(X, y.ravel(), n_rows=2, n_cols=3, seed=5)
    _, titles, _ = mosaic_tiles(fig, 6, 3)
    assert [t.get_text() for t in titles] == [str(y[i, 0]) for i in sampled(M, 6, seed=5)]
    # Fewer images than cells: every image once, the rest of the grid blank.
    fig = autils.display_digit_grid(X[:5], y[:5], n_rows=2, n_cols=4)
    tiles, titles, _ = mosaic_tiles(fig, 8, 4)
    assert len(titles) == 5
    assert all(np.isnan(tile).all() for tile in tiles[5:])


def test_plot_history_numbers_epochs_from_one():
    loss = [2.0, 1.0, 0.5, 0.4]

    class History:  # what fit_model and keras' model.fit return, as far as plot_history cares
        history = {"loss": loss}

    for history in (History(), {"loss": loss}):
        fig = autils.plot_history(history)
        (ax,) = fig.axes
        epochs, values = ax.lines[0].get_data()
        np.testing.assert_array_equal(epochs, [1, 2, 3, 4])
        np.testing.assert_array_equal(values, loss)
        assert ax.get_title() and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
        assert autils.alt_text(fig) == ("A line plot of the training loss over 4 epochs: 2.000 "
                                        "after the first, 0.400 after the last.")


def test_plot_history_with_test_curves_marks_the_lowest_test_loss():
    history = {"loss": [2.0, 1.0, 0.5, 0.4], "accuracy": [0.5, 0.7, 0.8, 0.9],
               "test_loss": [2.1, 1.2, 0.9, 1.0], "test_accuracy": [0.4, 0.6, 0.7, 0.72]}
    fig = autils.plot_history(history)
    loss_ax, accuracy_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()[:2]] == ["training images",
                                                                     "test images"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), history["test_loss"])
    np.testing.assert_array_equal(accuracy_ax.lines[1].get_ydata(), history["test_accuracy"])
    marker = loss_ax.lines[2]  # the vertical line at the lowest test loss
    np.testing.assert_array_equal(marker.get_xdata(), [3, 3])
    assert "epoch 3" in loss_ax.texts[0].get_text()
    assert accuracy_ax.get_ylabel() == "accuracy"
    assert "lowest after epoch 3 (0.900)" in autils.alt_text(fig)
    # Keras's own names for the same curves work too.
    keras_names = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]}
    assert autils.plot_history(keras_names).axes[0].lines[1].get_label() == "test images"


@pytest.mark.parametrize("history", [{}, {"accuracy": [0.5]}, {"loss": []}, [1.0, 0.5], None])
def test_plot_history_without_loss_says_what_it_expected(history):
    with pytest.raises(ValueError, match="'loss'"):
        autils.plot_history(history)


def test_predict_digits_calls_predict_once_and_returns_argmax(data, predictions):
    X, _ = data
    y_pred, _ = predictions
    model = FakeModel(logits_for(y_pred))
    result = autils.predict_digits(model, X)
    assert model.calls == [{"rows": M, "batch_size": M, "verbose": 0}]  # one call, one batch
    assert result.shape == (M,) and result.dtype == np.int64
    np.testing.assert_array_equal(result, y_pred)


def test_predict_digits_rejects_outputs_of_the_wrong_shape(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"model.predict\(X\) should return shape \(5000, n_classes\)"):
        autils.predict_digits(FakeModel(np.zeros(M)), X)
    with pytest.raises(ValueError, match="model should be a Keras model"):
        autils.predict_digits("model", X)


def test_display_predictions_titles_label_comma_prediction_and_marks_mistakes(data, predictions):
    X, y = data
    y_pred, wrong = predictions
    # Choose a seed whose sample holds at least one mistake, so the marking is really tested.
    seed = next(s for s in range(100) if np.isin(sampled(M, 64, s), wrong).any())
    fig = autils.display_predictions(X, y, y_pred.reshape(-1, 1), seed=seed)
    indices = sampled(M, 64, seed)
    tiles, titles, frames = mosaic_tiles(fig, 64, 8)
    assert len(titles) == 64
    framed = {(round(frame.get_x() + 1), round(frame.get_y() + 1)) for frame in frames}
    n_mistakes = 0
    for k, (tile, title, index) in enumerate(zip(tiles, titles, indices)):
        np.testing.assert_array_equal(tile, digit_image(X[index]))
        label, prediction = title.get_text().rstrip(" ✗").split(",")
        assert (int(label), int(prediction)) == (y[index, 0], y_pred[index])
        is_mistake = y[index, 0] != y_pred[index]
        n_mistakes += is_mistake
        # Marked without relying on colour alone: a cross, bold, and a frame around the tile.
        assert title.get_text().endswith("✗") == is_mistake
        assert (title.get_fontweight() == "bold") == is_mistake
        top, left = autils.tile_origin(k, 8)
        assert ((left, top) in framed) == is_mistake
        if is_mistake:
            assert mcolors.same_color(title.get_color(), PALETTE["vermillion"])
    assert len(frames) == n_mistakes > 0
    assert all(mcolors.same_color(frame.get_edgecolor(), PALETTE["vermillion"]) for frame in frames)
    assert suptitle(fig) == f"Label, prediction: mistakes marked ✗ ({n_mistakes} of these 64)"


def test_display_predictions_without_a_mistake_in_the_sample_says_so(data):
    X, y = data
    fig = autils.display_predictions(X, y, y)
    _, titles, frames = mosaic_tiles(fig, 64, 8)
    assert frames == [] and not any("✗" in t.get_text() for t in titles)
    # No promise of marked mistakes where the sample shows none.
    assert suptitle(fig) == "Label, prediction: all 64 correct"


def test_display_predictions_accepts_y_as_column_or_flat(data, predictions):
    X, y = data
    y_pred, _ = predictions
    titles = [[t.get_text() for t in mosaic_tiles(autils.display_predictions(X, labels, y_pred), 64, 8)[1]]
              for labels in (y, y.ravel())]
    assert titles[0] == titles[1]


def test_plot_errors_shows_errors_in_index_order_and_counts_all(data, predictions):
    X, y = data
    y_pred, wrong = predictions
    fig = autils.plot_errors(X, y, y_pred, max_shown=24)
    tiles, titles, _ = mosaic_tiles(fig, 24, 8)
    assert len(titles) == 24
    for tile, title, index in zip(tiles, titles, wrong[:24]):
        np.testing.assert_array_equal(tile, digit_image(X[index]))
        assert title.get_text() == f"{y[index, 0]},{y_pred[index]}"
    assert "137 errors out of 5000" in suptitle(fig)
    assert len(mosaic_tiles(autils.plot_errors(X, y, y_pred, max_shown=200), 137, 8)[1]) == 137


def test_plot_errors_without_errors_says_so(data):
    X, y = data
    fig = autils.plot_errors(X, y, y)
    (ax,) = fig.axes
    assert not ax.images and ax.get_title()
    assert "No errors" in " ".join(text.get_text() for text in ax.texts)


def test_display_errors_counts_with_a_single_predict(data, predictions):
    X, y = data
    y_pred, wrong = predictions
    model = FakeModel(logits_for(y_pred))
    assert autils.display_errors(model, X, y) == len(wrong) == np.count_nonzero(y.ravel() != y_pred)
    assert len(model.calls) == 1
    assert autils.display_errors(model, X, y, y_pred) == len(wrong)
    assert len(model.calls) == 1  # y_pred given: no prediction at all


def test_display_errors_shows_the_figure_only_inside_ipython(data, predictions, monkeypatch):
    import IPython
    import IPython.display

    X, y = data
    y_pred, wrong = predictions
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects: shown.extend(objects))
    # Outside IPython (another test of the session may have made an InteractiveShell instance).
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    autils.display_errors(None, X, y, y_pred)
    assert shown == []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    assert autils.display_errors(None, X, y, y_pred) == len(wrong)
    (figure,) = shown
    assert isinstance(figure, Figure) and f"{len(wrong)} errors out of {M}" in suptitle(figure)


def test_confusion_matrix_matches_a_hand_count():
    y = [0, 0, 1, 1, 1, 2, 2, 2, 2, 9]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 0, 0, 9]
    expected = np.zeros((10, 10), dtype=int)
    expected[0, 0], expected[0, 1] = 1, 1
    expected[1, 1], expected[1, 2] = 2, 1
    expected[2, 2], expected[2, 0] = 2, 2
    expected[9, 9] = 1
    matrix = autils.confusion_matrix(np.array(y).reshape(-1, 1), y_pred)
    assert matrix.shape == (10, 10) and np.issubdtype(matrix.dtype, np.integer)
    np.testing.assert_array_equal(matrix, expected)
    np.testing.assert_array_equal(autils.confusion_matrix([0, 1, 2], [2, 1, 0], n_classes=3),
                                  [[0, 0, 1], [0, 1, 0], [1, 0, 0]])


def test_confusion_matrix_on_the_data_sums_to_m_with_labels_in_rows(data, predictions):
    _, y = data
    y_pred, wrong = predictions
    matrix = autils.confusion_matrix(y, y_pred)
    assert matrix.sum() == M
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(y.ravel()))
    np.testing.assert_array_equal(matrix.sum(axis=0), np.bincount(y_pred, minlength=10))
    assert matrix.sum() - np.trace(matrix) == len(wrong)


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match="y_pred has 2 entries but y has 3"):
        autils.confusion_matrix([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="y_pred should hold digits 0 to 9; found values from 0 to 10"):
        autils.confusion_matrix([1, 2, 3], [0, 2, 10])
    with pytest.raises(ValueError, match="predict_digits"):  # logits passed by mistake
        autils.confusion_matrix([1, 2, 3], np.zeros((3, 10)))
    with pytest.raises(ValueError, match="whole-number digits"):
        autils.confusion_matrix([1, 2, 3], [1.0, 2.5, 3.0])


def test_plot_confusion_matrix_colours_only_the_mistakes(data, predictions):
    _, y = data
    y_pred, _ = predictions
    fig = autils.plot_confusion_matrix(y, y_pred, title="Test set")
    ax = image_axes(fig)[0]
    matrix = autils.confusion_matrix(y, y_pred)
    shown = ax.images[0].get_array()
    # The diagonal is masked (drawn in the neutral grey), so the colour scale spans the mistakes
    # only: its top is the largest off-diagonal count, not the ~490 correct answers.
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), np.eye(10, dtype=bool))
    np.testing.assert_array_equal(shown.data, matrix)
    off_diagonal = matrix[~np.eye(10, dtype=bool)]
    assert ax.images[0].norm.vmax == off_diagonal.max() < matrix.diagonal().min()
    assert mcolors.same_color(ax.images[0].get_cmap().get_bad(), autils.NEUTRAL_GREY)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert len(cells) == 100
    for (true_digit, predicted_digit), text in cells.items():
        count = matrix[true_digit, predicted_digit]
        if true_digit == predicted_digit:
            assert text.get_text() == str(count) and text.get_fontweight() == "bold"
            assert mcolors.same_color(text.get_color(), PALETTE["black"])  # on the grey
        else:
            assert text.get_text() == (str(count) if count else "·")
    zero = next(t for key, t in cells.items() if key[0] != key[1] and t.get_text() == "·")
    assert mcolors.same_color(zero.get_color(), "white")  # the darkest colour: light text
    assert ax.get_xlabel() == "Predicted digit" and ax.get_ylabel() == "True digit"
    assert ax.get_title().startswith("Test set")
    assert list(ax.get_xticks()) == list(range(10)) == list(ax.get_yticks())
    worst = autils.most_confused_pairs(y, y_pred, k=1)[0]
    assert f"{worst[0]} predicted as {worst[1]}, {worst[2]} times" in autils.alt_text(fig)


def test_most_confused_pairs_orders_by_count_then_digits():
    y = [7, 7, 7, 4, 4, 4, 3, 3, 5, 1, 1]
    y_pred = [1, 1, 2, 9, 9, 4, 5, 5, 3, 1, 1]
    assert autils.most_confused_pairs(y, y_pred, k=3) == [(3, 5, 2), (4, 9, 2), (7, 1, 2)]
    assert autils.most_confused_pairs(y, y_pred, k=10) == [(3, 5, 2), (4, 9, 2), (7, 1, 2),
                                                           (5, 3, 1), (7, 2, 1)]
    assert autils.most_confused_pairs(y, y, k=3) == []
    pairs = autils.most_confused_pairs(y, y_pred)
    assert all(type(value) is int for pair in pairs for value in pair)


def test_first_layer_weights_are_drawn_through_digit_image_on_one_symmetric_scale():
    W1 = np.random.default_rng(3).normal(size=(400, 25))
    fig = autils.plot_first_layer_weights(W1)
    tiles, titles, _ = mosaic_tiles(fig, 25, 5)
    limit = np.abs(W1).max()
    for unit, (tile, title) in enumerate(zip(tiles, titles)):
        np.testing.assert_array_equal(tile, digit_image(W1[:, unit]))
        assert title.get_text() == f"unit {unit + 1}"
    (image,) = image_axes(fig)[0].images
    assert image.get_clim() == (-limit, limit)
    assert image.get_cmap().name == "PuOr"
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "weight"  # the colorbar
    assert suptitle(fig)


def test_quiet_pixels_hold_no_ink(data):
    X, _ = data
    quiet = autils.quiet_pixels(X)
    assert quiet.shape == (400,) and quiet.dtype == bool
    assert np.all(X.std(axis=0)[quiet] < autils.QUIET_PIXEL_STD)
    assert np.all(X.std(axis=0)[~quiet] >= autils.QUIET_PIXEL_STD)
    # Mostly the border: every pixel of the image's outer ring is quiet or nearly so.
    border = digit_image(np.arange(400))[[0, -1], :].ravel()
    assert quiet[border].mean() > 0.5


def test_hidden_pixels_are_grey_and_left_out_of_the_colour_scale(data):
    X, _ = data
    W1 = np.random.default_rng(3).normal(size=(400, 25))
    quiet = autils.quiet_pixels(X)
    W1[quiet] *= 100  # huge weights on the quiet pixels must not set the scale
    fig = autils.plot_first_layer_weights(W1, hide=quiet)
    weights, grey = image_axes(fig)[0].images
    tiles, _, _ = mosaic_tiles(fig, 25, 5)
    for unit, tile in enumerate(tiles):
        np.testing.assert_array_equal(np.isnan(tile), digit_image(quiet))
        np.testing.assert_array_equal(tile[~np.isnan(tile)],
                                      digit_image(W1[:, unit])[~digit_image(quiet)])
    limit = np.abs(W1[~quiet]).max()
    assert weights.get_clim() == (-limit, limit)
    assert mcolors.same_color(grey.get_cmap()(1.0), autils.NEUTRAL_GREY)
    assert f"{quiet.sum()} pixels hidden" in suptitle(fig)
    with pytest.raises(ValueError, match="hide should be a boolean array of 400 values"):
        autils.plot_first_layer_weights(W1, hide=np.zeros(400))
    with pytest.raises(ValueError, match="hides every pixel"):
        autils.plot_first_layer_weights(W1, hide=np.ones(400, dtype=bool))


def test_top_images_are_the_largest_values_of_each_unit(data):
    X, y = data
    activations = np.random.default_rng(5).random((len(X), 25))
    fig = autils.display_top_images(X, activations, units=[2, 7], k=4, y=y)
    tiles, titles, _ = mosaic_tiles(fig, 8, 4)
    for row, unit in enumerate([2, 7]):
        best = np.argsort(-activations[:, unit - 1])[:4]
        for k, index in enumerate(best):
            np.testing.assert_array_equal(tiles[4 * row + k], digit_image(X[index]))
            assert titles[4 * row + k].get_text() == f"{y[index, 0]}: {activations[index, unit - 1]:.1f}"
    row_labels = [text.get_text() for text in image_axes(fig)[0].texts[8:]]
    assert row_labels == ["unit 2", "unit 7"]
    assert "unit 7: " in autils.alt_text(fig)
    with pytest.raises(ValueError, match="units should be unit numbers from 1 to 25"):
        autils.display_top_images(X, activations, units=[0])
    with pytest.raises(ValueError, match=r"activations should have shape \(5000, n_units\)"):
        autils.display_top_images(X, activations[:10], units=[1])


def test_class_means_are_drawn_as_digits(data):
    X, y = data
    means = np.array([X[y.ravel() == digit].mean(axis=0) for digit in range(10)])
    fig = autils.display_class_means(means)
    tiles, titles, _ = mosaic_tiles(fig, 10, 5)
    for digit in range(10):
        np.testing.assert_allclose(tiles[digit], digit_image(means[digit]))
        assert titles[digit].get_text() == f"mean of {digit}s"
    with pytest.raises(ValueError, match="class_means should have 10 rows"):
        autils.display_class_means(means[:9])


@pytest.mark.parametrize("shape, message", [((25, 400), "transposed"), ((400,), r"found shape \(400,\)"),
                                            ((100, 25), r"found shape \(100, 25\)")])
def test_first_layer_weights_reject_other_shapes(shape, message):
    with pytest.raises(ValueError, match=rf"W1 should have shape \(400, n_units\).*{message}"):
        autils.plot_first_layer_weights(np.zeros(shape))


@pytest.mark.parametrize("call, message", [
    (lambda X, y: autils.display_digit_grid(X[:, :399], y), r"X should have shape \(m, 400\)"),
    (lambda X, y: autils.display_digit_grid(X, y[:10]), "y has 10 entries but X has 5000"),
    (lambda X, y: autils.display_digit_grid(X, y, n_rows=0), "n_rows should be a whole number"),
    (lambda X, y: autils.display_predictions(X, y, y[:-1]), "y_pred has 4999 entries"),
    (lambda X, y: autils.plot_errors(X, y, y, max_shown=2.5), "max_shown should be a whole number"),
    (lambda X, y: autils.display_errors(None, X[0], y), "For a single image use display_digit"),
])
def test_invalid_inputs_name_the_argument(data, call, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        call(X, y)


def test_every_figure_is_closed_titled_and_leaves_rcparams_alone(data, predictions):
    X, y = data
    y_pred, _ = predictions
    before = dict(plt.rcParams)
    figures = [autils.plt_act_trio(), autils.display_digit(X[0], 0), autils.display_digit_grid(X, y),
               autils.plot_history({"loss": [1, 0.5]}), autils.display_predictions(X, y, y_pred),
               autils.plot_errors(X, y, y_pred), autils.plot_errors(X, y, y),
               autils.plot_confusion_matrix(y, y_pred),
               autils.plot_first_layer_weights(np.ones((400, 25))),
               autils.plot_first_layer_weights(np.ones((400, 25)), hide=autils.quiet_pixels(X)),
               autils.display_top_images(X, np.ones((len(X), 25)), [1]),
               autils.display_class_means(np.ones((10, 400))),
               autils.plot_softmax_loss_clipping(CURVES)]
    assert dict(plt.rcParams) == before
    assert plt.get_fignums() == []  # closed: a notebook shows each returned figure once
    for fig in figures:
        assert suptitle(fig) or all(ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>")
        assert fig.get_size_inches()[0] <= 10
        # A text alternative of its own, with what the figure shows: never the generic fallback.
        assert len(fig.lab_alt_text) > 40 and autils.alt_text(fig) == fig.lab_alt_text
