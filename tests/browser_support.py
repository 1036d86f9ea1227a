"""Support for tests/test_browser.py: a throw-away JupyterLab (or Notebook 7) server and a
notebook driven in headless Chromium through the front end's own menus, as a student would.

Nothing here is a test. The server runs on 127.0.0.1 with a random token, on a copy of the lab
in a temporary folder, with Jupyter's config, data, runtime and IPython folders also temporary,
so neither the developer's settings nor the lab folder are read or changed. Everything started
here is stopped by ``JupyterLabServer.stop``, which also reports any process left behind.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "lab2_multiclass.ipynb"
# What a student's folder holds: the notebook and everything it reads.
LAB_FILES = (NOTEBOOK, "autils.py", "lab_utils_softmax.py", "public_tests.py", "data", "images")

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Debian's Chromium, as the machine notes start it: headless, root-safe, and silent on the network
# (without the background-networking flags it keeps trying to reach Google's hosts).
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)
INSTALL_HINT = ("install Debian's Chromium (apt-get install chromium) and the developers' "
                "requirements (python -m pip install -r requirements-dev.txt); the test drives "
                "/usr/bin/chromium (or $CHROMIUM) and never downloads a browser")

# JupyterLab settings for the temporary user: no news or update checks (no network), and no
# toast that could cover a cell in a screenshot. Everything else is JupyterLab's default, as a
# student gets it.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    # JupyterLab's default rendering, set for both front ends: Notebook 7 otherwise attached only
    # 54 of the lab's 63 cells to the page after 20 s on a busy machine (it attaches off-screen
    # cells when the CPU is idle), and the tests read every cell from the page.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "contentVisibility"},
}
# Extensions of the developers' tools (requirements-dev.txt), not of a student's install
# (requirements.txt): turned off, so the page is the one a student sees. nbgrader adds menus, and
# panels that ask its server extensions for courses and assignments.
DEV_ONLY_LAB_EXTENSIONS = ("@jupyter/nbgrader",)
DEV_ONLY_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",
                              "nbgrader.server_extensions.validate_assignment",
                              "nbgrader.server_extensions.assignment_list",
                              "nbgrader.server_extensions.course_list")
# The two front ends: the Python module that starts each, and its application class (for its
# settings and workspaces options).
FRONT_ENDS = {"lab": ("jupyterlab", "LabApp"), "notebook": ("notebook", "JupyterNotebookApp")}


def chromium_path():
    """The Chromium to drive: $CHROMIUM if set, else Debian's."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def missing_browser_tools():
    """Why the browser test cannot run here (a message with how to fix it), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the playwright package is not installed: {INSTALL_HINT}"
    path = chromium_path()
    if not path or not os.access(path, os.X_OK):
        return f"no Chromium found: {INSTALL_HINT}"
    return None


ARTIFACT_PATTERNS = ("lab-*.png", "student-*.png", "test_*-last-view.png")


def artifacts_dir():
    """Where screenshots go: $BROWSER_TEST_ARTIFACTS, else test-artifacts/browser/ (git-ignored).
    Screenshots of an earlier run are removed (only the files this test writes)."""
    folder = Path(os.environ.get("BROWSER_TEST_ARTIFACTS") or ROOT / "test-artifacts" / "browser")
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in ARTIFACT_PATTERNS:
        for old in folder.glob(pattern):
            old.unlink()
    return folder.resolve()


def copy_lab(source, destination):
    """Copy the student-facing files of the lab in ``source`` to ``destination``."""
    source, destination = Path(source), Path(destination)
    destination.mkdir(parents=True)
    missing = [name for name in LAB_FILES if not (source / name).exists()]
    if missing:
        raise FileNotFoundError(f"{source} lacks {', '.join(missing)}")
    for name in LAB_FILES:
        if (source / name).is_dir():
            shutil.copytree(source / name, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(source / name, destination / name)
    return destination


def browser_environment(state_dir):
    """Chromium's environment: its config and cache (crash reports included) in ``state_dir``,
    so it reads and writes nothing of the user's, and every process it starts names that folder."""
    xdg = Path(state_dir) / "chromium-xdg"
    xdg.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "XDG_CONFIG_HOME": str(xdg), "XDG_CACHE_HOME": str(xdg)}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_mentioning(text):
    """(pid, command line) of every live process whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        cmdline = raw.replace(b"\0", b" ").decode(errors="replace").strip()
        if text in cmdline:
            found.append((int(entry.name), cmdline))
    return found


class JupyterLabServer:
    """A JupyterLab (or, with ``front_end="notebook"``, a Notebook 7) server on 127.0.0.1 serving
    ``root_dir``; all its state lives in ``state_dir``."""

    def __init__(self, root_dir, state_dir, startup_timeout=60, front_end="lab"):
        if front_end not in FRONT_ENDS:
            raise ValueError(f"front_end: expected one of {sorted(FRONT_ENDS)}, got {front_end!r}")
        self.front_end = front_end
        self.root_dir = Path(root_dir)
        self.state_dir = Path(state_dir)
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(24)
        self.port = None
        self.process = None
        self.log_path = self.state_dir / f"jupyter-{front_end}.log"

    # --- life cycle --------------------------------------------------------------------------

    def start(self):
        config, data, runtime, ipython, matplotlib = (
            self.state_dir / name for name in ("config", "data", "runtime", "ipython", "matplotlib"))
        settings, workspaces = self.state_dir / "user-settings", self.state_dir / "workspaces"
        for folder in (config, data, runtime, ipython, matplotlib, settings, workspaces):
            folder.mkdir(parents=True, exist_ok=True)
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        (config / "labconfig").mkdir(exist_ok=True)
        (config / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {name: True for name in DEV_ONLY_LAB_EXTENSIONS}}))
        (config / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {name: False
                                                   for name in DEV_ONLY_SERVER_EXTENSIONS}}}))

        env = {key: value for key, value in os.environ.items()
               # A kernel that sees PYTEST_CURRENT_TEST stops capturing its C++ libraries' output
               # (TensorFlow's log): keep pytest's traces out, so the kernel shows what a
               # student's kernel shows.
               if not key.startswith(("PYTEST_", "JUPYTER_", "JPY_"))
               and key not in ("IPYTHONDIR", "MPLCONFIGDIR", "MPLBACKEND")}
        env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(data),
                   JUPYTER_RUNTIME_DIR=str(runtime), IPYTHONDIR=str(ipython),
                   MPLCONFIGDIR=str(matplotlib), PYTHONUNBUFFERED="1")

        for attempt in range(3):  # another program may take the free port before the server does
            self.port = free_port()
            module, app = FRONT_ENDS[self.front_end]
            command = [
                sys.executable, "-m", module, "--no-browser",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root_dir}",
                f"--{app}.user_settings_dir={settings}", f"--{app}.workspaces_dir={workspaces}",
            ] + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
            log = open(self.log_path, "ab")
            # A session of its own: stop() can signal the server and anything it spawned at once.
            self.process = subprocess.Popen(command, cwd=self.root_dir, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
            log.close()
            if self._wait_until_up():
                return self
            self._kill_group()
            if "already in use" not in self.log():
                break
        raise RuntimeError(f"JupyterLab did not start; its log:\n{self.log()}")

    def _wait_until_up(self):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if "started" in self.api("GET", "/api/status", timeout=2):
                    return True
            except (OSError, urllib.error.URLError, ValueError):
                pass
            time.sleep(0.25)
        return False

    def stop(self):
        """Shut the kernels down through the REST API, then the server; return what is left.

        Returns a list of (pid, command line) of processes that mention this server's temporary
        folders and were still alive at the end (after being killed): empty when all went well.
        """
        if self.process is None:
            return []
        if self.process.poll() is None:
            try:
                self.shutdown_kernels()
            except (OSError, urllib.error.URLError, ValueError):
                pass
            try:
                self.api("POST", "/api/shutdown", timeout=5)
            except (OSError, urllib.error.URLError, ValueError):
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self._kill_group()
        # Kernels run in sessions of their own; their command lines name our runtime folder.
        leftovers = self.own_processes()
        for pid, _ in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2 if leftovers else 0)
        return leftovers

    def _kill_group(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        try:  # children that outlived the server in its group
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def own_processes(self):
        """Live processes started for this server: the server itself and its kernels."""
        return processes_mentioning(str(self.state_dir))

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return "(no log)"

    # --- REST API ----------------------------------------------------------------------------

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path, query=""):
        return f"{self.base_url}{path}?token={self.token}" + (f"&{query}" if query else "")

    def api(self, method, path, timeout=10):
        request = urllib.request.Request(self.base_url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def kernels(self):
        return self.api("GET", "/api/kernels")

    def shutdown_kernels(self):
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.kernels():
            self.api("DELETE", f"/api/kernels/{kernel['id']}")


# --- the notebook in the browser -------------------------------------------------------------

# One record per cell of the open notebook, in notebook order, read from the page.
_CELLS_JS = """
() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')]
  .map((cell, index) => ({
    index,
    kind: cell.classList.contains('jp-CodeCell') ? 'code'
        : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
    prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
    source: (cell.querySelector('.cm-content') || {}).textContent || '',
    active: cell.classList.contains('jp-mod-active'),
    outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(output => ({
      mime: output.dataset.mimeType
          || (output.querySelector('.jupyter-widgets') ? 'widget' : ''),
      text: output.textContent,
      images: [...output.querySelectorAll('img')].map(img => ({
        loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth})),
    })),
    markdownImages: cell.classList.contains('jp-MarkdownCell')
      ? [...cell.querySelectorAll('.jp-RenderedMarkdown img')].map(img => ({
          src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0,
          width: img.naturalWidth}))
      : [],
  }))
"""

_STATE_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
  // JupyterLab: "Python 3 (ipykernel) | Idle" in the status bar; Notebook 7: "Kernel status: Idle"
  // in the notebook's toolbar.
  const kernel = document.querySelector('#jp-main-statusbar [title^="Change kernel"]')
    || (panel && [...panel.querySelectorAll('.jp-Toolbar-item')]
        .find(item => item.textContent.includes('Kernel status:')));
  return {
    cells: panel ? panel.querySelectorAll('.jp-Notebook .jp-Cell').length : 0,
    indicator: indicator ? indicator.dataset.status : null,
    kernel: kernel ? kernel.textContent : '',
    prompts: panel ? [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
      .map(prompt => prompt.textContent.trim()) : [],
  };
}
"""

EXECUTION_COUNT = re.compile(r"^\[(\d+)\]:$")
KERNEL_IDLE = re.compile(r"(\|\s*|Kernel status:\s*)Idle\b")


class LabPage:
    """A notebook open in JupyterLab in one browser tab, driven through JupyterLab's UI."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.problems = []  # console errors, page errors, failed requests: (kind, text)
        self.console = []  # every console message: (type, text)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(("page error", str(error))))
        page.on("requestfailed", lambda request: self.problems.append(
            ("request failed", f"{request.method} {_no_token(request.url)}: {request.failure}")))
        page.on("response", self._on_response)

    def _on_console(self, message):
        self.console.append((message.type, message.text))
        if message.type == "error":
            self.problems.append(("console error", message.text))

    def _on_response(self, response):
        if response.status >= 400:
            self.problems.append(("HTTP error", f"{response.status} {response.request.method} "
                                                f"{_no_token(response.url)}"))

    # --- opening and running -----------------------------------------------------------------

    def open(self, notebook_path, n_cells, workspace, timeout=90):
        """Open ``notebook_path`` (relative to the server's root) alone, in a fresh JupyterLab
        workspace named ``workspace`` (JupyterLab would otherwise reopen the tabs of an earlier
        page), and wait for its kernel. In Notebook 7 the notebook opens in a page of its own
        (``workspace`` is not used)."""
        if self.server.front_end == "notebook":
            self.page.goto(self.server.url(f"/notebooks/{notebook_path}"))
        else:
            self.page.goto(self.server.url(f"/lab/workspaces/{workspace}/tree/{notebook_path}",
                                           "reset"))
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if state["cells"] == n_cells and KERNEL_IDLE.search(state["kernel"]):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"notebook not ready in {timeout} s: {state}")
            time.sleep(0.25)
        panels = self.page.locator(".jp-NotebookPanel").count()
        if panels != 1:
            raise AssertionError(f"{panels} notebooks open in the page; expected only {notebook_path}")
        # Fold the file browser away: the notebook gets the whole width, as in the screenshots
        # a student would take.
        current_tab = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if current_tab.count():
            current_tab.first.click()
        return self

    def state(self):
        return self.page.evaluate(_STATE_JS)

    def cells(self):
        return self.page.evaluate(_CELLS_JS)

    def cell(self, index):
        return self.page.locator(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)

    def menu(self, menu_name, item_name):
        """Click ``item_name`` (a label, or a compiled pattern it must match whole) in the menu
        bar's ``menu_name`` menu."""
        self.page.locator(".lm-MenuBar-item", has_text=menu_name).filter(
            has_text=re.compile(rf"^{re.escape(menu_name)}$")).first.click()
        pattern = (item_name if isinstance(item_name, re.Pattern)
                   else re.compile(rf"^{re.escape(item_name)}$"))
        label = self.page.locator(".lm-Menu .lm-Menu-item[role='menuitem'] .lm-Menu-itemLabel",
                                  has_text=pattern)
        label.first.click()

    def select_cell(self, index):
        """Make cell ``index`` the active cell, in command mode (a click on its prompt)."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Escape")
        active = [c["index"] for c in self.cells() if c["active"]]
        if active != [index]:
            raise AssertionError(f"clicking cell {index} made {active} active")

    def run(self, menu_item, timeout=240):
        """Run cells with ``menu_item`` of the Run menu and wait until the kernel is done.

        Done means: the run began (a cell was seen queued or running, or a prompt changed: the
        stored notebook may already show the same execution counts), no cell is queued or
        running ("[*]"), the kernel is idle, and all stays so for a second. Returns the seconds
        it took.
        """
        before = self.state()["prompts"]
        started = time.monotonic()
        self.menu("Run", menu_item)
        quiet_since, began = None, False
        while True:
            state = self.state()
            now = time.monotonic()
            busy = any(p == "[*]:" for p in state["prompts"]) or state["indicator"] != "idle" \
                or not KERNEL_IDLE.search(state["kernel"])
            began = began or busy or state["prompts"] != before
            if began and not busy:
                quiet_since = quiet_since or now
                if now - quiet_since >= 1.0:
                    return now - started
            else:
                quiet_since = None
            if now - started > timeout:
                raise TimeoutError(f"'{menu_item}' still running (or never started) after "
                                   f"{timeout} s: {state}")
            time.sleep(0.1)

    def save(self, disk_path, timeout=30):
        """Save the notebook with Ctrl+S; return it as JupyterLab wrote it to ``disk_path``."""
        disk_path = Path(disk_path)
        before = disk_path.stat().st_mtime_ns
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while disk_path.stat().st_mtime_ns == before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{disk_path} not saved in {timeout} s")
            time.sleep(0.2)
        while True:  # the server may still be writing
            try:
                return json.loads(disk_path.read_text())
            except ValueError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # --- sliders -----------------------------------------------------------------------------

    def sliders(self, cell_index):
        """{label: (slider locator, readout text)} of the ipywidgets sliders in a cell."""
        found = {}
        self.cell(cell_index).scroll_into_view_if_needed()
        for slider in self.cell(cell_index).locator(".widget-slider").all():
            label = slider.locator(".widget-label").text_content().strip()
            found[label] = slider
        return found

    @staticmethod
    def readout(slider):
        return slider.locator(".widget-readout").text_content().strip()

    def press_slider(self, slider, key, times):
        """Focus a slider's handle and press ``key`` ``times`` times, as a keyboard user would."""
        handle = slider.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(times):
            self.page.keyboard.press(key)

    def drag_slider(self, slider, fraction):
        """Drag a slider's handle with the mouse by ``fraction`` of the slider's track width
        (positive: to the right). Notebook 7 takes ArrowRight on a focused slider as a move of the
        cell focus, so there the mouse is the way a student moves a slider."""
        handle = slider.locator(".noUi-handle").first
        track = slider.locator(".noUi-target").first
        handle.scroll_into_view_if_needed()
        box, width = handle.bounding_box(), track.bounding_box()["width"]
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        for step in range(1, 6):  # in steps, as a hand moves: the slider follows mouse moves
            self.page.mouse.move(x + fraction * width * step / 5, y)
        self.page.mouse.up()

    def output_image_src(self, cell_index):
        """The src (a data: URL) of the first image in a cell's outputs."""
        return self.cell(cell_index).locator(".jp-OutputArea-output img").first.get_attribute("src")

    def wait_for_new_image(self, cell_index, old_src, timeout=30, settle=1.0):
        """Wait until a cell's output image differs from ``old_src`` and stays put for ``settle``
        seconds (a slider sends its moves one at a time, so several redraws may follow)."""
        deadline = time.monotonic() + timeout
        last, since = old_src, time.monotonic()
        while time.monotonic() < deadline:
            src = self.output_image_src(cell_index)
            if src != last:
                last, since = src, time.monotonic()
            elif src != old_src and time.monotonic() - since >= settle \
                    and self.state()["indicator"] == "idle":
                return src
            time.sleep(0.1)
        raise TimeoutError(f"the image of cell {cell_index} did not change within {timeout} s")

    # --- screenshots -------------------------------------------------------------------------

    def screenshot_cell(self, cell_index, path):
        cell = self.cell(cell_index)
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(path))
        return path

    def screenshot_notebook(self, path, max_height=32000):
        """The whole notebook in one picture: the window is made as tall as the notebook."""
        viewport = self.page.viewport_size
        height = self.page.evaluate(
            "() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-WindowedPanel-outer').scrollHeight")
        try:
            self.page.set_viewport_size({"width": viewport["width"],
                                         "height": min(max_height, height + 200)})
            self.page.evaluate(
                "() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                ".jp-WindowedPanel-outer').scrollTo(0, 0)")
            self.page.wait_for_timeout(1500)  # layout and image decoding at the new size
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(viewport)
        return path


def _no_token(url):
    return re.sub(r"token=[0-9a-f]+", "token=...", url)
