"""The Help menu's pages: Keyboard Shortcuts (read from the window's actions), Getting Started, About.

Every page is built when it is opened, from what the program holds then: the shortcut list from
the QActions in the menus (so it cannot drift from the keys that work), the models and detectors
from their registries, and each model's terms from the card shipped beside its weights.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMenu,
    QMenuBar,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from restorer import __version__
from restorer.models import registry
from restorer.models.terms import NON_COMMERCIAL, model_terms

CODE_LICENCE = "GPL-3.0-or-later"

# Keys that are not commands (held keys and mouse gestures): the canvas and views handle them.
GESTURES = (
    ("Space + drag, or middle-drag", "Pan"),
    ("Mouse wheel", "Zoom at the cursor"),
    ("Shift + wheel", "Scroll sideways"),
    ("Hold \\", "Show the original photo while held"),
    ("Lasso: drag / click points", "Freehand outline / straight segments; Enter, a double-click or the first point closes"),
    ("Backspace (lasso)", "Remove the last point of the outline"),
    ("Alt or Ctrl + selection", "Take the rectangle, lasso or wand area away from the mask (without: add it)"),
)


def _plain(text: str) -> str:
    return text.replace("&&", "\x00").replace("&", "").replace("\x00", "&").rstrip("…").strip()


def shortcut_rows(menu_bar: QMenuBar, extra: Iterable[QAction] = ()) -> list[tuple[str, str, str]]:
    """(menu, command, keys) for every action with a shortcut, in menu order; ``extra`` (actions
    outside the menus) come last under "Other"."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} > {_plain(action.text())}")
                continue
            seen.add(id(action))
            keys = _keys(action)
            if keys and not action.isSeparator():
                rows.append((path, _plain(action.text()), keys))

    for top in menu_bar.actions():
        sub = top.menu()
        if isinstance(sub, QMenu):
            walk(sub, _plain(top.text()))
    for action in extra:
        keys = _keys(action)
        if id(action) not in seen and keys:
            seen.add(id(action))
            rows.append(("Other", _plain(action.text()), keys))
    return rows


def _keys(action: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty())


def shortcuts_html(rows: list[tuple[str, str, str]]) -> str:
    out = ["<h2>Keyboard shortcuts</h2><table cellspacing='0' cellpadding='3'>"]
    last = None
    for menu, command, keys in rows:
        if menu != last:
            out.append(f"<tr><td colspan='2'><br><b>{html.escape(menu)}</b></td></tr>")
            last = menu
        out.append(f"<tr><td><code>{html.escape(keys)}</code></td><td>{html.escape(command)}</td></tr>")
    out.append("<tr><td colspan='2'><br><b>Mouse and held keys</b></td></tr>")
    out += [f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(v)}</td></tr>" for k, v in GESTURES]
    out.append("</table>")
    return "".join(out)


def _availability(spec: registry.ModelSpec) -> str:
    try:
        state = registry.check(spec)
    except Exception as exc:  # noqa: BLE001 - a broken entry must not stop Help from opening
        return f"cannot check: {exc}"
    return "installed" if state.ready else f"unavailable: {state.reason}"


def getting_started_html() -> str:
    from restorer.detection import registry as detectors

    models = "".join(
        f"<tr><td><b>{html.escape(s.name)}</b></td><td>{html.escape(s.best_for)}</td>"
        f"<td>{html.escape(s.description)}<br><i>{html.escape(_availability(s))}</i></td></tr>"
        for s in registry.all_specs())
    found = "".join(f"<li><b>{html.escape(d.name)}</b>: {html.escape(d.description)}</li>" for d in detectors.all_specs())
    return f"""<h2>Getting started</h2>
<ol>
<li><b>Open a photo</b>: File &gt; Open (Ctrl+O), drop a file or an image from a browser on the window,
or paste one (Ctrl+V). Restorer never changes the original file: Save (Ctrl+S) writes
NAME-restored beside it.</li>
<li><b>Mark the damage</b> in red: paint with the brush (B; [ and ] change its size), erase with E,
or select with the rectangle (M), lasso (L) or magic wand (W). Each stroke or selection is one
undoable step (Ctrl+Z). Detect &gt; Detect Damage (D) proposes scratches and dust for you to accept,
found by the detector chosen beside it in the Detect tool bar.</li>
<li><b>Fill</b> (Enter) with the model chosen in the tool bar. Try another model if the result is not
right: undo, pick, fill again.</li>
<li><b>Compare</b> before and after (Ctrl+D, or hold \\), then save.</li>
</ol>
<h3>Which model when</h3>
<ul>
<li>Thin scratches, dust and specks: <b>telea</b> or <b>navier-stokes</b>, instant and exact at the edges.</li>
<li>Textured areas (grass, fabric, walls, grain): <b>patchmatch</b> copies the photo's own texture;
Fill &gt; Sampling Area (S) says where it may copy from.</li>
<li>Large holes, torn corners, removed objects: <b>guided-ensemble</b>, the default (or
<b>guided-edgeconnect</b> where the hole crosses strong lines, <b>guided-partialconv</b> for one
network's time): networks decide the structure, the photo's own patches give the detail at full
resolution.</li>
<li>Holes across edges where you want to steer the result: an <b>edgeconnect</b> model with Edges
mode (G): it shows the edges it predicts and you draw guide lines, each an undoable step.</li>
<li><b>partialconv-compact</b>: quick blotch fills on a CPU when the guided fill is too slow;
<b>ensemble-compact</b>: the most faithful smooth fill, where texture does not matter.</li>
</ul>
<table cellspacing='0' cellpadding='3' border='1'><tr><th>Model</th><th>Best for</th><th>What it is</th></tr>{models}</table>
<h3>Damage detectors (the Detect tool bar's list)</h3><ul>{found}</ul>
<p>Every key is listed under Help &gt; Keyboard Shortcuts; the models' licences and terms under Help &gt; About.</p>"""


def licence_file() -> Path | None:
    """The LICENSE shipped with the program (the source tree's, or the bundle's), if it is there."""
    frozen = getattr(sys, "_MEIPASS", None)
    for folder in ([Path(frozen)] if frozen else []) + [Path(__file__).resolve().parents[2]]:
        if (folder / "LICENSE").is_file():
            return folder / "LICENSE"
    return None


def about_html() -> str:
    where = licence_file()
    rows = []
    for spec in registry.all_specs():
        t = model_terms(spec)
        if t.unread:  # a learned model whose weights are not here: nothing to quote
            terms, data = "Those of its card, once its weights are installed.", "(weights not installed)"
        else:
            terms = f"<b>{NON_COMMERCIAL.capitalize()}.</b>" if t.restricted else "No further terms."
            data = html.escape(t.data) if t.data else "none (no training)"
        card = f"<br><small>{'' if t.unread else 'from '}{html.escape(t.card)}</small>" if t.card else ""
        rows.append(f"<tr><td><b>{html.escape(spec.name)}</b></td><td>{html.escape(t.licence)}{card}</td>"
                    f"<td>{data}</td><td>{terms}</td></tr>")
    text = f"""<h2>Restorer {html.escape(__version__)}</h2>
<p>A desktop photo restorer: mark the damage, fill it.</p>
<p>The code is free software under the <b>GNU General Public License, version 3 or (at your option) any
later version ({CODE_LICENCE})</b>; it comes with ABSOLUTELY NO WARRANTY.
{('The full text is in ' + html.escape(str(where)) + '.') if where else 'The full text is in the LICENSE file.'}
Qt for Python (PySide6) is LGPL-3.0; OpenCV is Apache-2.0.</p>
<p><b>The shipped learned weights are for {NON_COMMERCIAL}</b>: they were trained on research-only photo
collections. Classical and synthesis fills have no such terms.</p>
<h3>Models</h3>
<table cellspacing='0' cellpadding='3' border='1'><tr><th>Model</th><th>Licence</th><th>Training data</th><th>Terms</th></tr>
{''.join(rows)}</table>"""
    return text


class HelpDialog(QDialog):
    """One help page: rich text in a scrolling browser, a Close button; not modal, so it can stay open."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 600)

    def text(self) -> str:
        return self.browser.toPlainText()


class HelpPages:
    """Opens each page once and raises it when asked again (the page is rebuilt with what holds now)."""

    def __init__(self, parent: QWidget, menu_bar: QMenuBar, extra: Iterable[QAction]) -> None:
        self.parent, self.menu_bar, self.extra = parent, menu_bar, list(extra)
        self.dialogs: dict[str, HelpDialog] = {}

    def show(self, page: str) -> HelpDialog:
        title, text = {
            "shortcuts": ("Keyboard Shortcuts", lambda: shortcuts_html(shortcut_rows(self.menu_bar, self.extra))),
            "start": ("Getting Started", getting_started_html),
            "about": ("About Restorer", about_html),
        }[page]
        dialog = self.dialogs.get(page)
        if dialog is None:
            dialog = self.dialogs[page] = HelpDialog(title, text(), self.parent)
        else:
            dialog.browser.setHtml(text())
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog
