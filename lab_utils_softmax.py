"""Interactive explorers for the multiclass digits lab: a sum of ReLU units, and your softmax.

Each explorer shows an ordinary inline figure with ipywidgets sliders under it. Moving a slider
redraws the same Figure and replaces the displayed image through an IPython display handle, so
no ipympl / ``%matplotlib widget`` is needed: this works in JupyterLab, Notebook 7 and VS Code.
Where no widget front end runs (GitHub, nbconvert, ``jupyter execute``, nbval) the figure is still
stored as a still image and the sliders appear as their (deterministic) text form.

ipywidgets is imported only when an explorer is created, so importing this module is cheap.
"""
import numpy as np
import matplotlib.pyplot as plt

from autils import PALETTE, describe, wrap_message

Z_RANGE = (-4.0, 4.0)
START_Z = (1.0, 2.0, 0.5, -1.0)
SHIFT_RANGE = (-4.0, 4.0)  # the value c added to every z_j
SLIDER_STEP = 0.1
# One colour per index j, the same in both charts, so z_j and a_j are easy to pair up.
INDEX_COLOURS = tuple(PALETTE[name] for name in ("blue", "orange", "bluish_green", "reddish_purple"))

RELU_X = np.linspace(-1.0, 3.0, 401)  # 0.01 apart, so every slider breakpoint lies on the grid
RELU_WEIGHT_RANGE = (-3.0, 3.0)
START_WEIGHTS = (1.0, -2.0, 2.0)
START_BREAKPOINTS = (0.0, 1.0, 2.0)
UNIT_COLOURS = tuple(PALETTE[name] for name in ("orange", "bluish_green", "reddish_purple"))


def _ipywidgets():
    import ipywidgets  # imported here: only the explorers need it, and it is slow to import

    return ipywidgets


def _slider(description, value, value_range, description_width="initial"):
    return _ipywidgets().FloatSlider(
        value=value, min=value_range[0], max=value_range[1], step=SLIDER_STEP,
        description=description, readout_format=".1f", continuous_update=True,
        style={"description_width": description_width})


class _FigureExplorer:
    """A figure plus ipywidgets controls; each slider change redraws the figure in place.

    Subclasses draw their artists once, then implement ``_redraw`` to change them from the
    sliders' values. Displaying the explorer shows the figure through a display handle, then the
    controls; ``update`` redraws and pushes the new image to every place it is displayed.
    Slider messages are throttled by the widget front end (one in flight, the latest pending), so
    continuous updates do not queue up behind a slow redraw.
    """

    def __init__(self, figure, sliders, controls):
        self.figure = figure
        self.sliders = list(sliders)
        self.controls = controls
        self._display_handles = []
        for slider in self.sliders:
            slider.observe(self._on_slider_change, names="value")
        self._redraw()

    def _redraw(self):
        raise NotImplementedError

    def _on_slider_change(self, change):
        self.update()

    def update(self):
        """Redraw the figure from the sliders' current values (the sliders' observers call this)."""
        self._redraw()
        for handle in self._display_handles:
            handle.update(self.figure)

    def _ipython_display_(self):
        from IPython.display import display

        handle = display(self.figure, display_id=True)
        if handle is not None:  # None outside a running IPython
            self._display_handles.append(handle)
        display(self.controls)


def _function_name(function):
    name = getattr(function, "__name__", "")
    return name if name.isidentifier() else "my_softmax"  # a lambda is called "<lambda>"


class SoftmaxExplorer(_FigureExplorer):
    """Four sliders z0..z3 and a fifth that adds the same c to every one; bar charts of z and of
    ``my_softmax(z)``.

    Attributes:
      sliders (list of 5 ipywidgets.FloatSlider): z0..z3, then c.
      figure (matplotlib.figure.Figure): two axes, the inputs and the probabilities.
      z (ndarray (4,)): the current inputs, z_j = slider j + c.
      probabilities (ndarray (4,) or None): the last usable result of my_softmax.
      message (str or None): why the last result was not usable (shown instead of the bars).
    """

    def __init__(self, my_softmax):
        if not callable(my_softmax):
            raise ValueError(f"plt_softmax expects your softmax function itself, for example "
                             f"plt_softmax(my_softmax); found {type(my_softmax).__name__}.")
        self.my_softmax = my_softmax
        self.function_name = _function_name(my_softmax)
        n = len(START_Z)
        self.z = np.array(START_Z)
        self.probabilities = None
        self.message = None

        figure, (self._inputs_ax, self._outputs_ax) = plt.subplots(1, 2, figsize=(7.5, 3.0),
                                                                   layout="constrained")
        positions = np.arange(n)
        self._input_bars = self._inputs_ax.bar(positions, self.z, color=INDEX_COLOURS)
        self._input_labels = [self._inputs_ax.text(j, 0, "", ha="center", fontsize=8)
                              for j in positions]
        self._inputs_ax.axhline(0, color=PALETTE["black"], linewidth=0.6)
        self._inputs_ax.set_ylim(Z_RANGE[0] + SHIFT_RANGE[0] - 0.8, Z_RANGE[1] + SHIFT_RANGE[1] + 0.8)
        self._inputs_ax.set_title("Inputs z", fontsize=11)
        self._inputs_ax.set_ylabel("$z_j$")

        self._output_bars = self._outputs_ax.bar(positions, np.zeros(n), color=INDEX_COLOURS)
        self._output_labels = [self._outputs_ax.text(j, 0, "", ha="center", va="bottom",
                                                     fontsize=8) for j in positions]
        self._outputs_ax.set_ylim(0, 1.1)  # probabilities 0..1; headroom for the value labels
        self._outputs_ax.set_yticks(np.linspace(0, 1, 5))
        self._outputs_ax.set_ylabel("probability $a_j$")
        # Placed once, emptied while there is nothing wrong: the ticks stay for the bars.
        self._message = self._outputs_ax.text(0.5, 0.5, "", transform=self._outputs_ax.transAxes,
                                              ha="center", va="center", fontsize=9,
                                              color=PALETTE["vermillion"])
        for ax in (self._inputs_ax, self._outputs_ax):
            ax.set_xticks(positions)
            ax.set_xlabel("index j")
        plt.close(figure)

        sliders = [_slider(f"z{j}", value, Z_RANGE) for j, value in enumerate(START_Z)]
        sliders.append(_slider("c, added to every z", 0.0, SHIFT_RANGE))
        widgets = _ipywidgets()
        controls = widgets.VBox([widgets.HBox(sliders[:2]), widgets.HBox(sliders[2:4]),
                                 sliders[4]])
        super().__init__(figure, sliders, controls)

    def _evaluate(self, z):
        """(probabilities, None) if my_softmax(z) is usable, else (None, what is wrong)."""
        name, n = self.function_name, len(z)
        try:
            with np.errstate(all="ignore"):  # NaN and inf are reported below, in words
                result = self.my_softmax(z.copy())  # a copy: a function that edits z in place
        except Exception as error:  # any error in the student's code is shown, not raised
            detail = f": {error}" if str(error) else ""
            return None, f"{name} raised {type(error).__name__}{detail}"
        if result is None:
            return None, f"{name} returned None; expected {n} probabilities (is `return a` missing?)"
        try:
            values = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            return None, (f"{name} returned a {type(result).__name__}, not an array of numbers; "
                          f"expected {n} probabilities")
        if values.size != n:
            return None, (f"{name} returned shape {values.shape}; expected {n} probabilities, one "
                          f"per value of z")
        values = values.reshape(n)
        shown = np.array2string(values, precision=3)
        if not np.all(np.isfinite(values)):
            return None, f"{name} returned {shown}, with NaN or infinity; expected {n} probabilities"
        if np.any(values < -1e-9) or np.any(values > 1 + 1e-9):
            return None, (f"{name} returned {shown}: probabilities must lie between 0 and 1 "
                          f"(did you divide by the sum?)")
        return values, None

    def _redraw(self):
        *values, shift = (slider.value for slider in self.sliders)
        self.z = np.array(values, dtype=float) + shift
        for bar, label, value in zip(self._input_bars, self._input_labels, self.z):
            bar.set_height(value)
            label.set_text(f"{value:.1f}")
            label.set_y(value)
            label.set_verticalalignment("bottom" if value >= 0 else "top")

        self.probabilities, self.message = self._evaluate(self.z)
        usable = self.message is None
        for bar, label in zip(self._output_bars, self._output_labels):
            bar.set_visible(usable)
            label.set_visible(usable)
        self._message.set_text("" if usable else wrap_message(self.message, 40))
        title, colour = f"{self.function_name}(z)", PALETTE["black"]
        if usable:
            for bar, label, probability in zip(self._output_bars, self._output_labels,
                                               self.probabilities):
                bar.set_height(probability)
                label.set_text(f"{probability:.3f}")
                label.set_y(probability + 0.01)
            total = self.probabilities.sum()
            title += f": sum = {total:.3f}"
            if not np.isclose(total, 1.0, atol=1e-3):
                title, colour = title + " (should be 1)", PALETTE["vermillion"]
        self._outputs_ax.set_title(title, fontsize=11, color=colour)
        shown = ", ".join(f"{value:.1f}" for value in self.z)
        result = (f"{self.function_name}(z) = "
                  + ", ".join(f"{probability:.3f}" for probability in self.probabilities)
                  if usable else self.message)
        describe(self.figure, f"Two bar charts: the inputs z = {shown}, and {result}.")

    def __repr__(self):
        return f"SoftmaxExplorer(z={self.z.tolist()})"


class ReluExplorer(_FigureExplorer):
    """Three ReLU units v_k * max(0, x - s_k) of one input x, and their sum.

    The symbols follow the notebook's section 2: a unit computes max(0, w*x + b), which switches
    on at x = -b/w. Here each unit has w = 1 and b = -s_k, so it switches on at x = s_k; v_k is the
    weight the sum gives it, the slope it adds from there. The sliders set v_k ("weight") and s_k
    ("switches on at"); no symbol means two things.

    Attributes:
      sliders (list of 6 ipywidgets.FloatSlider): weight_sliders then breakpoint_sliders.
      weight_sliders, breakpoint_sliders (lists of 3 FloatSlider): v_k and s_k.
      figure (matplotlib.figure.Figure): one axes.
      x (ndarray (401,)): the inputs the functions are drawn on, -1 to 3.
      unit_outputs (ndarray (3, 401)): each unit's contribution v_k * max(0, x - s_k).
      output (ndarray (401,)): their sum, the piecewise-linear function.
    """

    def __init__(self):
        self.x = RELU_X
        figure, self._ax = plt.subplots(figsize=(7.0, 3.6), layout="constrained")
        self._ax.axhline(0, color=PALETTE["black"], linewidth=0.6)
        self._unit_lines = [self._ax.plot(self.x, np.zeros_like(self.x), color=colour,
                                          linewidth=1.3)[0] for colour in UNIT_COLOURS]
        self._breakpoint_lines = [self._ax.axvline(0, color=colour, linewidth=1, linestyle=":")
                                  for colour in UNIT_COLOURS]
        self._sum_line, = self._ax.plot(self.x, np.zeros_like(self.x), color=PALETTE["black"],
                                        linewidth=3, label="sum: the function the units build")
        self._ax.set_xlim(self.x[0], self.x[-1])
        self._ax.set_title("Three ReLU units add up to a piecewise-linear function", fontsize=11)
        self._ax.set_xlabel("x (the input)")
        self._ax.set_ylabel("output")
        self._ax.grid(True, linewidth=0.4, alpha=0.5)
        plt.close(figure)

        self.weight_sliders = [_slider(f"unit {k + 1} weight v", value, RELU_WEIGHT_RANGE, "140px")
                               for k, value in enumerate(START_WEIGHTS)]
        self.breakpoint_sliders = [
            _slider(f"unit {k + 1} on at x = s", value, (float(self.x[0]), float(self.x[-1])), "140px")
            for k, value in enumerate(START_BREAKPOINTS)]
        widgets = _ipywidgets()
        controls = widgets.VBox([widgets.HBox([weight, breakpoint]) for weight, breakpoint
                                 in zip(self.weight_sliders, self.breakpoint_sliders)])
        super().__init__(figure, self.weight_sliders + self.breakpoint_sliders, controls)

    @property
    def weights(self):
        """ndarray (3,): each unit's weight in the sum, v_k."""
        return np.array([slider.value for slider in self.weight_sliders], dtype=float)

    @property
    def breakpoints(self):
        """ndarray (3,): where each unit switches on, s_k."""
        return np.array([slider.value for slider in self.breakpoint_sliders], dtype=float)

    def _redraw(self):
        weights, breakpoints = self.weights, self.breakpoints
        self.unit_outputs = weights[:, None] * np.maximum(0.0, self.x[None, :] - breakpoints[:, None])
        self.output = self.unit_outputs.sum(axis=0)
        self._sum_line.set_ydata(self.output)
        for k, (line, marker, weight, breakpoint) in enumerate(
                zip(self._unit_lines, self._breakpoint_lines, weights, breakpoints)):
            line.set_ydata(self.unit_outputs[k])
            sign = "−" if breakpoint >= 0 else "+"
            line.set_label(f"unit {k + 1}: {weight:.1f}·max(0, x {sign} {abs(breakpoint):.1f})"
                           .replace("-", "−"))
            marker.set_xdata([breakpoint, breakpoint])
        everything = np.concatenate([self.output, self.unit_outputs.ravel()])
        low, high = min(-1.0, everything.min()), max(2.0, everything.max())
        margin = 0.08 * (high - low)
        self._ax.set_ylim(low - margin, high + margin)
        self._ax.legend(handles=[*self._unit_lines, self._sum_line], loc="upper left", fontsize=8)
        describe(self.figure, "Line plots, for x from -1 to 3, of three ReLU units "
                 + "; ".join(f"{weight:.1f} times max(0, x - {breakpoint:.1f})"
                             for weight, breakpoint in zip(weights, breakpoints))
                 + ", and their sum, a thick line that changes slope where a unit switches on.")

    def __repr__(self):
        return (f"ReluExplorer(weights={self.weights.tolist()}, "
                f"breakpoints={self.breakpoints.tolist()})")


def plt_softmax(my_softmax):
    """An explorer of your softmax: move z0..z3 and watch my_softmax(z) follow.

    Args:
      my_softmax (callable): takes z (ndarray (4,)) and returns 4 probabilities.
    Returns:
      SoftmaxExplorer: shows the figure and its sliders when it is the last line of a cell.
    """
    return SoftmaxExplorer(my_softmax)


def plt_relu_explorer():
    """An explorer of how ReLU units v_k * max(0, x - s_k), each switched on at its own s_k, add
    up to a piecewise-linear function.

    Returns:
      ReluExplorer: shows the figure and its sliders when it is the last line of a cell.
    """
    return ReluExplorer()
