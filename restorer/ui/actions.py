"""The window's commands: every QAction with its key, and the menus, tool bar and status bar that show them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QCheckBox, QLabel, QMenu, QProgressBar, QSlider, QSpinBox, QToolBar

from restorer.ui.canvas import MAX_BRUSH, MIN_BRUSH
from restorer.ui.icons import icon

if TYPE_CHECKING:
    from restorer.ui.main_window import MainWindow


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


def _action(
    window: MainWindow,
    text: str,
    slot: Callable[..., object] | None,
    keys: str | QKeySequence.StandardKey | list[str] | None = None,
    tip: str = "",
    checkable: bool = False,
    icon_name: str | None = None,
) -> QAction:
    action = QAction(text, window)
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
    window.addAction(action)
    return action


def _setting(w: MainWindow, name: str) -> Callable[[bool], None]:
    """A checkable action's slot that stores its state as the preference ``name``."""
    return lambda on: setattr(w.settings, name, bool(on))


def build_actions(w: MainWindow) -> Actions:
    a = Actions(
        open=_action(w, "&Open…", w.open_dialog, "Ctrl+O", icon_name="open"),
        save=_action(w, "&Save", w.save, "Ctrl+S", "Save beside the original as NAME-restored", icon_name="save"),
        save_as=_action(w, "Save &As…", w.save_as, "Ctrl+Shift+S"),
        import_mask=_action(w, "&Import Mask…", w.mask_files.import_mask),
        export_mask=_action(w, "&Export Mask…", w.mask_files.export_mask),
        quit=_action(w, "&Quit", w.close, "Ctrl+Q"),
        undo=_action(w, "&Undo", w.undo, "Ctrl+Z", icon_name="undo"),
        redo=_action(w, "&Redo", w.redo, "Ctrl+Shift+Z", icon_name="redo"),
        redo_alt=_action(w, "Redo (Ctrl+Y)", w.redo, "Ctrl+Y"),
        paste=_action(w, "&Paste Image as New Photo", w.paste, "Ctrl+V",
                      "Open the clipboard's image as a new untitled photo (Save asks where)"),
        brush=_action(w, "&Brush", lambda on: on and w.canvas.set_tool("brush"), "B", checkable=True, icon_name="brush"),
        eraser=_action(w, "&Eraser", lambda on: on and w.canvas.set_tool("eraser"), "E", checkable=True, icon_name="eraser"),
        # Photoshop's keys: M marquee, L lasso, W magic wand (GIMP uses R, F, U).
        rect_select=_action(w, "&Rectangle Select", lambda on: on and w.canvas.set_tool("rectangle"), "M",
                            "Drag a rectangle onto the mask (Alt or Ctrl: take it away)", checkable=True,
                            icon_name="rect_select"),
        lasso=_action(w, "&Lasso", lambda on: on and w.canvas.set_tool("lasso"), "L",
                      "Drag a freehand outline, or click points and close with Enter or a double-click "
                      "(Alt or Ctrl: take it away)", checkable=True, icon_name="lasso"),
        wand=_action(w, "Magic &Wand", lambda on: on and w.canvas.set_tool("wand"), "W",
                     "Click a colour: the connected area within the tolerance joins the mask (Alt or Ctrl: leaves it)",
                     checkable=True, icon_name="wand"),
        smaller=_action(w, "Smaller Brush", lambda: w.canvas.step_brush(-1), "["),
        bigger=_action(w, "Bigger Brush", lambda: w.canvas.step_brush(+1), "]"),
        clear_mask=_action(w, "&Clear Mask", lambda: w.selection.mask_command("clear"), "Ctrl+Shift+A"),
        invert_mask=_action(w, "&Invert Mask", lambda: w.selection.mask_command("invert"), "Ctrl+I"),
        grow_mask=_action(w, "&Grow Mask…", lambda: w.selection.mask_command("grow"), tip="Grow every hole by an amount you choose"),
        shrink_mask=_action(w, "S&hrink Mask…", lambda: w.selection.mask_command("shrink"), tip="Shrink every hole by an amount you choose"),
        show_mask=_action(w, "Show &Mask", w.set_mask_visible, "Ctrl+H", checkable=True),
        fill=_action(w, "&Fill", w.fill, ["Return", "Enter"], "Fill the mask with the chosen model", icon_name="fill"),
        cancel=_action(w, "&Cancel", w.cancel, "Esc", "Cancel the running job or the stroke"),
        auto_fill=_action(w, "Fill &Automatically After Each Stroke", _setting(w, "auto_fill"), checkable=True),
        edges=_action(w, "&Edges Mode", w.edges.set_enabled, "G", "Show the predicted edges and draw guide lines (EdgeConnect)", checkable=True, icon_name="edges"),
        sampling=_action(w, "&Sampling Area", w.sampling.set_enabled, "S",
                         "Paint where patch synthesis copies from (patchmatch and the guided fills)", checkable=True),
        sampling_never=_action(w, "&Never Copy From Painted Area", w.sampling.set_never, checkable=True),
        sampling_clear=_action(w, "Clear Sampling Area", w.sampling.clear),
        grain=_action(w, "Add &Grain to Smooth Fills", _setting(w, "grain"), checkable=True),
        feather=_action(w, "Seam &Feather…", w.fills.ask_feather,
                        tip="How far into the hole a fill fades into its surroundings (automatic, off, or pixels)"),
        sidecar=_action(w, "Write &Provenance With Each Save", _setting(w, "write_sidecar"),
                        tip="A NAME.restorer.json beside the saved photo and an XMP history entry in it",
                        checkable=True),
        fit=_action(w, "&Fit", w.canvas.fit, "Ctrl+0", icon_name="fit"),
        # Photoshop's Ctrl keys and GIMP's bare ones (1, +, -; = is + without Shift on most layouts).
        actual=_action(w, "&100 %", w.canvas.actual_size, ["Ctrl+1", "1"]),
        zoom_in=_action(w, "Zoom &In", lambda: w.zoom_step(1), ["Ctrl+=", "Ctrl++", "+", "="]),
        zoom_out=_action(w, "Zoom &Out", lambda: w.zoom_step(-1), ["Ctrl+-", "-"]),
        compare_split=_action(w, "&Before / After Split", lambda: w.comparing.compare_document("split"), "Ctrl+D", icon_name="compare"),
        compare_difference=_action(w, "&Difference", lambda: w.comparing.compare_document("difference"), "Ctrl+Shift+D"),
        compare_step=_action(w, "Compare &Selected Step", w.comparing.compare_selected_step),
        back_to_canvas=_action(w, "Back to &Editing", w.show_canvas),
        help_start=_action(w, "&Getting Started", lambda: w.help.show("start"), "F1",
                           "What each model and detector is for, and the steps of a restoration"),
        help_shortcuts=_action(w, "&Keyboard Shortcuts", lambda: w.help.show("shortcuts")),
        help_about=_action(w, "&About Restorer", lambda: w.help.show("about"),
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


def build_menus(w: MainWindow, a: Actions) -> QMenu:
    """Menus in the conventional order; returns the recent-files submenu for the window to fill."""
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(a.open)
    recent = w.files.recent_menu
    file_menu.addMenu(recent)
    w.file_menu = file_menu
    _add_all(file_menu, (None, a.save, a.save_as, a.sidecar, None, a.import_mask, a.export_mask, None, a.quit))
    _add_all(bar.addMenu("&Edit"), (a.undo, a.redo, None, a.paste))
    # Import/Export Mask sit in both File (where they always were) and Mask (where users look for them).
    _add_all(bar.addMenu("&Mask"), (a.brush, a.eraser, a.smaller, a.bigger, None, a.rect_select, a.lasso, a.wand, None,
                                    a.clear_mask, a.invert_mask, a.grow_mask, a.shrink_mask, None, a.show_mask,
                                    None, a.import_mask, a.export_mask))
    fill = bar.addMenu("F&ill")
    _add_all(fill, (a.fill, a.cancel, a.auto_fill, None, a.edges, None,
                    a.sampling, a.sampling_never, a.sampling_clear, a.grain, a.feather, None))
    w.device_menu = fill.addMenu("&Device")
    view = bar.addMenu("&View")
    _add_all(view, (a.fit, a.actual, a.zoom_in, a.zoom_out, None,
                    a.compare_split, a.compare_difference, a.compare_step, a.back_to_canvas, None))
    w.view_menu = view
    w.help_menu = bar.addMenu("&Help")
    _add_all(w.help_menu, (a.help_start, a.help_shortcuts, None, a.help_about))
    return recent


def build_device_menu(w: MainWindow) -> None:
    """Where learned models run: automatic (GPU if there is one) or a fixed device; classical ones use the CPU."""
    group = QActionGroup(w)
    labels = {"auto": "&Automatic (GPU if available)", "cpu": "&CPU", "cuda": "&NVIDIA GPU (CUDA)", "mps": "&Apple GPU (MPS)"}
    for name, label in labels.items():
        action = w.device_menu.addAction(label)
        action.setCheckable(True)
        action.setData(name)
        action.setChecked(name == w.settings.device)
        group.addAction(action)

    def chosen(action: QAction) -> None:
        w.settings.device = str(action.data())
        w.show_status(f"Learned models will run on: {w.settings.device} (from the next fill)")
        w.fills.warm_up(w.model_picker.current_model())  # the status bar's device follows the choice

    group.triggered.connect(chosen)


def build_status_bar(w: MainWindow) -> None:
    """The status bar's permanent parts: file busy bar, fill progress, cursor position, zoom, device."""
    status = w.statusBar()
    w.file_bar = QProgressBar()  # busy while a photo or mask file is read or written
    w.file_bar.setRange(0, 0)
    w.file_bar.setMaximumWidth(160)
    w.file_bar.hide()
    w.cursor_label = QLabel("")
    w.zoom_label = QLabel("")
    for widget in (w.file_bar, w.fills.progress, w.cursor_label, w.zoom_label, w.fills.device_label):
        status.addPermanentWidget(widget)


def build_toolbar(w: MainWindow, a: Actions) -> None:
    """The tool bar: file and history commands, tools, brush size, mask opacity, model, fill."""
    bar = QToolBar("Tools")
    bar.setObjectName("tools")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    _add_all(bar, (a.open, a.save, None, a.undo, a.redo, None, a.brush, a.eraser, a.rect_select, a.lasso, a.wand))
    w.selection.add_to(bar)
    w.brush_slider = QSlider(Qt.Orientation.Horizontal)
    w.brush_slider.setRange(MIN_BRUSH, 300)
    w.brush_slider.setMaximumWidth(140)
    w.brush_slider.setToolTip("Brush size in photo pixels ([ and ])")
    w.brush_spin = QSpinBox()
    w.brush_spin.setRange(MIN_BRUSH, MAX_BRUSH)
    w.brush_spin.setSuffix(" px")
    bar.addWidget(QLabel(" Size "))
    bar.addWidget(w.brush_slider)
    bar.addWidget(w.brush_spin)
    w.opacity_slider = QSlider(Qt.Orientation.Horizontal)
    w.opacity_slider.setRange(0, 100)
    w.opacity_slider.setMaximumWidth(100)
    w.opacity_slider.setToolTip("Mask overlay opacity")
    bar.addWidget(QLabel(" Mask "))
    bar.addWidget(w.opacity_slider)
    bar.addSeparator()
    bar.addWidget(QLabel(" Model "))
    bar.addWidget(w.model_picker)
    bar.addAction(a.fill)
    bar.widgetForAction(a.fill).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    w.auto_check = QCheckBox("Auto")
    w.auto_check.setToolTip("Fill automatically when a stroke ends")
    bar.addWidget(w.auto_check)
    bar.addAction(a.edges)
    bar.addSeparator()
    bar.addAction(a.fit)
    bar.addAction(a.compare_split)
    w.addToolBar(bar)
    w.toolbar = bar
