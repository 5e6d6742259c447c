"""The window's commands: every QAction with its key, and the menus, tool bar and status bar that show them.

Each builder returns what it built (``Actions``, ``Menus``, ``Tools``, ``StatusParts``); what a
command does comes in as ``Slots``, so nothing here knows the window.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QMenu,
    QMenuBar,
    QProgressBar,
    QSlider,
    QSpinBox,
    QStatusBar,
    QToolBar,
    QWidget,
)

from restorer.ui.canvas import MAX_BRUSH, MIN_BRUSH
from restorer.ui.icons import icon
from restorer.ui.settings import Settings

Slot = Callable[..., object]


@dataclass
class Actions:
    open: QAction
    save: QAction
    save_as: QAction
    import_mask: QAction
    export_mask: QAction
    quit: QAction
    undo: QAction
    redo: QAction
    redo_alt: QAction
    paste: QAction
    brush: QAction
    eraser: QAction
    rect_select: QAction
    lasso: QAction
    wand: QAction
    smaller: QAction
    bigger: QAction
    clear_mask: QAction
    invert_mask: QAction
    grow_mask: QAction
    shrink_mask: QAction
    show_mask: QAction
    fill: QAction
    cancel: QAction
    auto_fill: QAction
    edges: QAction
    sampling: QAction
    sampling_never: QAction
    sampling_clear: QAction
    grain: QAction
    feather: QAction
    sidecar: QAction
    jpeg_master: QAction
    embed_original: QAction
    fit: QAction
    actual: QAction
    zoom_in: QAction
    zoom_out: QAction
    compare_split: QAction
    compare_difference: QAction
    compare_step: QAction
    back_to_canvas: QAction
    help_start: QAction
    help_shortcuts: QAction
    help_about: QAction

    def all(self) -> list[QAction]:
        return [getattr(self, f.name) for f in fields(self)]


@dataclass(frozen=True)
class Slots:
    """What the commands do: one callable per action (or per family, with its argument)."""

    open: Slot
    save: Slot
    save_as: Slot
    import_mask: Slot
    export_mask: Slot
    quit: Slot
    undo: Slot
    redo: Slot
    paste: Slot
    set_tool: Callable[[str], object]
    step_brush: Callable[[int], object]
    mask_command: Callable[[str], object]
    show_mask: Callable[[bool], object]
    fill: Slot
    cancel: Slot
    edges: Callable[[bool], object]
    sampling: Callable[[bool], object]
    sampling_never: Callable[[bool], object]
    sampling_clear: Slot
    feather: Slot
    fit: Slot
    actual: Slot
    zoom_step: Callable[[int], object]
    compare_document: Callable[[str], object]
    compare_step: Slot
    back_to_canvas: Slot
    help: Callable[[str], object]


def _action(
    parent: QWidget,
    text: str,
    slot: Callable[..., object] | None,
    keys: str | QKeySequence.StandardKey | list[str] | None = None,
    tip: str = "",
    checkable: bool = False,
    icon_name: str | None = None,
) -> QAction:
    action = QAction(text, parent)
    if icon_name:
        action.setIcon(icon(icon_name))
    if isinstance(keys, list):
        action.setShortcuts([QKeySequence(k) for k in keys])
    elif keys is not None:
        action.setShortcut(QKeySequence(keys))
    # Window-wide keys, so they work whichever child has the focus (canvas, panels, tool bar).
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}" + (f" ({shortcut})" if shortcut else ""))
    if slot is not None:
        (action.toggled if checkable else action.triggered).connect(slot)
    parent.addAction(action)
    return action


def _setting(settings: Settings, name: str) -> Callable[[bool], None]:
    """A checkable action's slot that stores its state as the preference ``name``."""
    return lambda on: setattr(settings, name, bool(on))


def build_actions(w: QWidget, settings: Settings, do: Slots) -> Actions:
    """Every action, owned by (and with its key working anywhere in) ``w``."""
    a = Actions(
        open=_action(w, "&Open…", do.open, "Ctrl+O", icon_name="open"),
        save=_action(w, "&Save", do.save, "Ctrl+S", "Save beside the original as NAME-restored", icon_name="save"),
        save_as=_action(w, "Save &As…", do.save_as, "Ctrl+Shift+S"),
        import_mask=_action(w, "&Import Mask…", do.import_mask),
        export_mask=_action(w, "&Export Mask…", do.export_mask),
        quit=_action(w, "&Quit", do.quit, "Ctrl+Q"),
        undo=_action(w, "&Undo", do.undo, "Ctrl+Z", icon_name="undo"),
        redo=_action(w, "&Redo", do.redo, "Ctrl+Shift+Z", icon_name="redo"),
        redo_alt=_action(w, "Redo (Ctrl+Y)", do.redo, "Ctrl+Y"),
        paste=_action(w, "&Paste Image as New Photo", do.paste, "Ctrl+V",
                      "Open the clipboard's image as a new untitled photo (Save asks where)"),
        brush=_action(w, "&Brush", lambda on: on and do.set_tool("brush"), "B", checkable=True, icon_name="brush"),
        eraser=_action(w, "&Eraser", lambda on: on and do.set_tool("eraser"), "E", checkable=True, icon_name="eraser"),
        # Photoshop's keys: M marquee, L lasso, W magic wand (GIMP uses R, F, U).
        rect_select=_action(w, "&Rectangle Select", lambda on: on and do.set_tool("rectangle"), "M",
                            "Drag a rectangle onto the mask (Alt or Ctrl: take it away)", checkable=True,
                            icon_name="rect_select"),
        lasso=_action(w, "&Lasso", lambda on: on and do.set_tool("lasso"), "L",
                      "Drag a freehand outline, or click points and close with Enter or a double-click "
                      "(Alt or Ctrl: take it away)", checkable=True, icon_name="lasso"),
        wand=_action(w, "Magic &Wand", lambda on: on and do.set_tool("wand"), "W",
                     "Click a colour: the connected area within the tolerance joins the mask (Alt or Ctrl: leaves it)",
                     checkable=True, icon_name="wand"),
        smaller=_action(w, "Smaller Brush", lambda: do.step_brush(-1), "["),
        bigger=_action(w, "Bigger Brush", lambda: do.step_brush(+1), "]"),
        clear_mask=_action(w, "&Clear Mask", lambda: do.mask_command("clear"), "Ctrl+Shift+A"),
        invert_mask=_action(w, "&Invert Mask", lambda: do.mask_command("invert"), "Ctrl+I"),
        grow_mask=_action(w, "&Grow Mask…", lambda: do.mask_command("grow"), tip="Grow every hole by an amount you choose"),
        shrink_mask=_action(w, "S&hrink Mask…", lambda: do.mask_command("shrink"), tip="Shrink every hole by an amount you choose"),
        show_mask=_action(w, "Show &Mask", do.show_mask, "Ctrl+H", checkable=True),
        fill=_action(w, "&Fill", do.fill, ["Return", "Enter"], "Fill the mask with the chosen model", icon_name="fill"),
        cancel=_action(w, "&Cancel", do.cancel, "Esc", "Cancel the running job or the stroke"),
        auto_fill=_action(w, "Fill &Automatically After Each Stroke", _setting(settings, "auto_fill"), checkable=True),
        edges=_action(w, "&Edges Mode", do.edges, "G", "Show the predicted edges and draw guide lines (EdgeConnect)", checkable=True, icon_name="edges"),
        sampling=_action(w, "&Sampling Area", do.sampling, "S",
                         "Paint where patch synthesis copies from (patchmatch and the guided fills)", checkable=True),
        sampling_never=_action(w, "&Never Copy From Painted Area", do.sampling_never, checkable=True),
        sampling_clear=_action(w, "Clear Sampling Area", do.sampling_clear),
        grain=_action(w, "Add &Grain to Smooth Fills", _setting(settings, "grain"), checkable=True),
        feather=_action(w, "Seam &Feather…", do.feather,
                        tip="How far into the hole a fill fades into its surroundings (automatic, off, or pixels)"),
        sidecar=_action(w, "Write &Provenance With Each Save", _setting(settings, "write_sidecar"),
                        tip="A NAME.restorer.json beside the saved photo and an XMP history entry in it",
                        checkable=True),
        jpeg_master=_action(w, "Save JPEG Masters: Keep &Untouched Blocks", _setting(settings, "jpeg_master"),
                            tip="A JPEG saved as JPEG keeps every 8 x 8 block no fill touched bit for bit; "
                                "off: the whole photo is re-encoded (restorer-cli --jpeg-reencode)", checkable=True),
        embed_original=_action(w, "&Embed the Original in Projects", _setting(settings, "embed_original"),
                               tip="Save Project stores the original photo's file inside the project, so it "
                                   "opens even when the original moved or is gone (the project grows by its size)",
                               checkable=True),
        fit=_action(w, "&Fit", do.fit, "Ctrl+0", icon_name="fit"),
        # Photoshop's Ctrl keys and GIMP's bare ones (1, +, -; = is + without Shift on most layouts).
        actual=_action(w, "&100 %", do.actual, ["Ctrl+1", "1"]),
        zoom_in=_action(w, "Zoom &In", lambda: do.zoom_step(1), ["Ctrl+=", "Ctrl++", "+", "="]),
        zoom_out=_action(w, "Zoom &Out", lambda: do.zoom_step(-1), ["Ctrl+-", "-"]),
        compare_split=_action(w, "&Before / After Split", lambda: do.compare_document("split"), "Ctrl+D", icon_name="compare"),
        compare_difference=_action(w, "&Difference", lambda: do.compare_document("difference"), "Ctrl+Shift+D"),
        compare_step=_action(w, "Compare &Selected Step", do.compare_step),
        back_to_canvas=_action(w, "Back to &Editing", do.back_to_canvas),
        help_start=_action(w, "&Getting Started", lambda: do.help("start"), "F1",
                           "What each model and detector is for, and the steps of a restoration"),
        help_shortcuts=_action(w, "&Keyboard Shortcuts", lambda: do.help("shortcuts")),
        help_about=_action(w, "&About Restorer", lambda: do.help("about"),
                           tip="Version, licence, and each model's licence, training data and terms"),
    )
    tools = QActionGroup(w)
    tools.addAction(a.brush)
    tools.addAction(a.eraser)
    for action in (a.rect_select, a.lasso, a.wand):
        tools.addAction(action)
    a.brush.setChecked(True)
    a.show_mask.setChecked(True)
    return a


def _add_all(target: QMenu | QToolBar, items: Sequence[QAction | None]) -> None:
    """Add ``items`` in order; None is a separator."""
    for action in items:
        target.addSeparator() if action is None else target.addAction(action)


@dataclass(frozen=True)
class Menus:
    file: QMenu
    recent: QMenu
    edit: QMenu
    mask: QMenu
    fill: QMenu
    device: QMenu
    view: QMenu
    help: QMenu


def build_menus(bar: QMenuBar, a: Actions, recent: QMenu, open_project: QAction, save_project: QAction) -> Menus:
    """Menus in the conventional order, with ``recent`` (Open Recent) under Open and the project commands
    after Open… and Save As…."""
    file_menu = bar.addMenu("&File")
    file_menu.addAction(a.open)
    file_menu.addAction(open_project)
    file_menu.addMenu(recent)
    _add_all(file_menu, (None, a.save, a.save_as, save_project, a.sidecar, a.jpeg_master,
                         a.embed_original, None, a.import_mask, a.export_mask,
                         None, a.quit))
    edit = bar.addMenu("&Edit")
    _add_all(edit, (a.undo, a.redo, None, a.paste))
    # Import/Export Mask sit in both File (where they always were) and Mask (where users look for them).
    mask = bar.addMenu("&Mask")
    _add_all(mask, (a.brush, a.eraser, a.smaller, a.bigger, None, a.rect_select, a.lasso, a.wand, None,
                    a.clear_mask, a.invert_mask, a.grow_mask, a.shrink_mask, None, a.show_mask,
                    None, a.import_mask, a.export_mask))
    fill = bar.addMenu("F&ill")
    _add_all(fill, (a.fill, a.cancel, a.auto_fill, None, a.edges, None,
                    a.sampling, a.sampling_never, a.sampling_clear, a.grain, a.feather, None))
    device = fill.addMenu("&Device")
    view = bar.addMenu("&View")
    _add_all(view, (a.fit, a.actual, a.zoom_in, a.zoom_out, None,
                    a.compare_split, a.compare_difference, a.compare_step, a.back_to_canvas, None))
    help_menu = bar.addMenu("&Help")
    _add_all(help_menu, (a.help_start, a.help_shortcuts, None, a.help_about))
    return Menus(file_menu, recent, edit, mask, fill, device, view, help_menu)


DEVICES = {"auto": "&Automatic (GPU if available)", "cpu": "&CPU", "cuda": "&NVIDIA GPU (CUDA)", "mps": "&Apple GPU (MPS)"}


def build_device_menu(menu: QMenu, settings: Settings, chosen: Callable[[str], object]) -> QActionGroup:
    """Where learned models run: automatic (GPU if there is one) or a fixed device; classical ones use the CPU.
    The choice is stored in ``settings`` and then passed to ``chosen``."""
    group = QActionGroup(menu)
    for name, label in DEVICES.items():
        action = menu.addAction(label)
        action.setCheckable(True)
        action.setData(name)
        action.setChecked(name == settings.device)
        group.addAction(action)

    def picked(action: QAction) -> None:
        settings.device = str(action.data())
        chosen(settings.device)

    group.triggered.connect(picked)
    return group


@dataclass(frozen=True)
class StatusParts:
    file_bar: QProgressBar  # busy while a photo, mask or project file is read or written
    cursor_label: QLabel
    zoom_label: QLabel


def build_status_bar(status: QStatusBar, fill_progress: QWidget, device_label: QWidget) -> StatusParts:
    """The status bar's permanent parts: file busy bar, fill progress, cursor position, zoom, device."""
    parts = StatusParts(QProgressBar(), QLabel(""), QLabel(""))
    parts.file_bar.setRange(0, 0)
    parts.file_bar.setMaximumWidth(160)
    parts.file_bar.hide()
    for widget in (parts.file_bar, fill_progress, parts.cursor_label, parts.zoom_label, device_label):
        status.addPermanentWidget(widget)
    return parts


@dataclass(frozen=True)
class Tools:
    bar: QToolBar
    brush_slider: QSlider
    brush_spin: QSpinBox
    opacity_slider: QSlider
    auto_check: QCheckBox


def build_toolbar(a: Actions, tolerance: QWidget, model_picker: QWidget) -> Tools:
    """The tool bar: file and history commands, tools, wand tolerance, brush size, mask opacity, model, fill."""
    bar = QToolBar("Tools")
    bar.setObjectName("tools")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    _add_all(bar, (a.open, a.save, None, a.undo, a.redo, None, a.brush, a.eraser, a.rect_select, a.lasso, a.wand))
    bar.addWidget(QLabel(" Tolerance "))
    bar.addWidget(tolerance)
    brush_slider = QSlider(Qt.Orientation.Horizontal)
    brush_slider.setRange(MIN_BRUSH, 300)
    brush_slider.setMaximumWidth(140)
    brush_slider.setToolTip("Brush size in photo pixels ([ and ])")
    brush_spin = QSpinBox()
    brush_spin.setRange(MIN_BRUSH, MAX_BRUSH)
    brush_spin.setSuffix(" px")
    bar.addWidget(QLabel(" Size "))
    bar.addWidget(brush_slider)
    bar.addWidget(brush_spin)
    opacity_slider = QSlider(Qt.Orientation.Horizontal)
    opacity_slider.setRange(0, 100)
    opacity_slider.setMaximumWidth(100)
    opacity_slider.setToolTip("Mask overlay opacity")
    bar.addWidget(QLabel(" Mask "))
    bar.addWidget(opacity_slider)
    bar.addSeparator()
    bar.addWidget(QLabel(" Model "))
    bar.addWidget(model_picker)
    bar.addAction(a.fill)
    bar.widgetForAction(a.fill).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    auto_check = QCheckBox("Auto")
    auto_check.setToolTip("Fill automatically when a stroke ends")
    bar.addWidget(auto_check)
    bar.addAction(a.edges)
    bar.addSeparator()
    bar.addAction(a.fit)
    bar.addAction(a.compare_split)
    return Tools(bar, brush_slider, brush_spin, opacity_slider, auto_check)
