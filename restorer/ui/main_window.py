"""MainWindow: composes the session, the task runners, the controllers and the widgets, and wires them.

The window owns no document logic: the DocumentSession holds the open document; each controller
gets the session, its task runner, the settings and the widgets it drives; the builders in
actions.py return what they build. What is left here is placing widgets and connecting signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox, QStackedWidget, QVBoxLayout, QWidget

from restorer.core.document import Document
from restorer.models import registry
from restorer.ui import clipboard
from restorer.ui.actions import Slots, build_actions, build_device_menu, build_menus, build_status_bar, build_toolbar
from restorer.ui.canvas import CanvasView
from restorer.ui.comparing import HOLD_KEY, CompareController
from restorer.ui.convert import MaskPyramid, RgbPyramid
from restorer.ui.detect import DetectController
from restorer.ui.edges import EdgesController
from restorer.ui.edit_commands import EditCommands
from restorer.ui.file_commands import FileCommands
from restorer.ui.fill import FillController
from restorer.ui.help import HelpPages
from restorer.ui.history_panel import HistoryPanel
from restorer.ui.icons import app_icon
from restorer.ui.mask_files import MaskFiles
from restorer.ui.model_picker import ModelPicker
from restorer.ui.navigator import navigator_dock
from restorer.ui.project_commands import ProjectCommands
from restorer.ui.sampling import SamplingController
from restorer.ui.selection import SelectionController
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskRunner
from restorer.ui.welcome import WelcomePanel

MASK_COLOR = QColor(255, 40, 40)
QUIT_WAIT_MS = 300  # how long closing waits for the fill thread before leaving it to the process's end


class MainWindow(QMainWindow):
    """One photo at a time; everything that changes it goes through ``self.session.document``."""

    photoOpened = Signal(str)
    openFailed = Signal(str)
    photoSaved = Signal(str)
    saveFailed = Signal(str)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        self.session = session = DocumentSession(self)
        # Fills, edge predictions and detections share one worker thread; photo and mask files have
        # their own, and projects theirs, so a save never waits behind a fill.
        self.tasks = TaskRunner("inference", self)
        self.file_tasks = TaskRunner("file-io", self)
        self.project_tasks = TaskRunner("project-io", self)
        session.status.connect(self.show_status)
        session.error.connect(self.show_error)
        session.aboutToReplace.connect(self._before_replace)
        session.documentReplaced.connect(self._replaced)
        session.changed.connect(self._on_doc_event)
        self.setWindowTitle("Restorer")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)

        self.canvas = canvas = CanvasView()
        # Over the empty canvas until a photo is open: how to start, and the recent photos.
        self.welcome = WelcomePanel()
        QVBoxLayout(canvas).addWidget(self.welcome, alignment=Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(canvas)
        self.setCentralWidget(self.stack)
        self.history_panel = HistoryPanel()
        self.model_picker = ModelPicker()

        self.comparing = CompareController(session, self.stack, canvas, self.history_panel.cursor_step)
        self.fills = FillController(session, self.tasks, self.settings, self)
        self.edges = EdgesController(session, self.tasks, self.settings, canvas, self.model_picker.current_model)
        self.detect = DetectController(session, self.tasks, self.settings, canvas, self,
                                       leave_other_modes=lambda: self.actions.edges.setChecked(False))
        self.sampling = SamplingController(session, canvas)
        self.files = FileCommands(session, self.file_tasks, self.settings, self,
                                  open_project=lambda path: self.projects.open_path(path))
        self.mask_files = MaskFiles(session, self.file_tasks, self.settings, canvas, self)
        self.projects = ProjectCommands(session, self.project_tasks, self.settings, self.files, canvas, self)
        self.selection = SelectionController(session, self.settings, canvas, self)
        self.edits = EditCommands(session, canvas, self.model_picker, lambda: self.actions.auto_fill.isChecked(),
                                  fills=self.fills, edges=self.edges, sampling=self.sampling, detect=self.detect,
                                  files=self.files, comparing=self.comparing, refresh=self._update_actions)
        e = self.edits
        self.fill, self.cancel, self.undo, self.redo, self.goto_step = e.fill, e.cancel, e.undo, e.redo, e.goto_step
        self.stroke_finished = e.stroke_finished

        self.actions = build_actions(self, self.settings, self._slots())
        self.recent_menu = self.files.recent_menu
        self.menus = build_menus(self.menuBar(), self.actions, self.recent_menu,
                                 self.projects.open_action, self.projects.save_action)
        self.view_menu, self.device_menu = self.menus.view, self.menus.device
        self.help = HelpPages(self, self.menuBar(), self.actions.all())
        build_device_menu(self.device_menu, self.settings, self._device_chosen)
        self.tools = build_toolbar(self.actions, self.selection.tolerance, self.model_picker)
        self.addToolBar(self.tools.bar)
        self.brush_slider, self.brush_spin = self.tools.brush_slider, self.tools.brush_spin
        self.opacity_slider, self.auto_check = self.tools.opacity_slider, self.tools.auto_check
        self.menuBar().insertMenu(self.view_menu.menuAction(), self.detect.menu)
        self.addToolBarBreak()  # Detect's own row: the main tool bar is full at common window widths
        self.addToolBar(self.detect.toolbar)
        self.statusBar().addPermanentWidget(self.detect.progress)
        self.history_dock = self._dock("History", "history", self.history_panel)
        self.navigator, dock = navigator_dock(canvas, self)
        self._dock("Navigator", "navigator", self.navigator, dock)
        status = build_status_bar(self.statusBar(), self.fills.progress, self.fills.device_label)
        self.file_bar, self.cursor_label, self.zoom_label = status.file_bar, status.cursor_label, status.zoom_label
        self._connect()
        self._restore_settings()
        self._update_actions()

    # --- building --------------------------------------------------------------------------------
    def _slots(self) -> Slots:
        c, sel, sampling, comparing = self.canvas, self.selection, self.sampling, self.comparing
        return Slots(
            open=self.open_dialog, save=self.save, save_as=self.save_as, import_mask=self.mask_files.import_mask,
            export_mask=self.mask_files.export_mask, quit=self.close, undo=self.undo, redo=self.redo,
            paste=self.paste, set_tool=c.set_tool, step_brush=c.step_brush, mask_command=sel.mask_command,
            show_mask=self.set_mask_visible, fill=self.fill, cancel=self.cancel, edges=self.edges.set_enabled,
            sampling=sampling.set_enabled, sampling_never=sampling.set_never, sampling_clear=sampling.clear,
            feather=self.fills.ask_feather, fit=c.fit, actual=c.actual_size, zoom_step=self.zoom_step,
            compare_document=comparing.compare_document, compare_step=comparing.compare_selected_step,
            back_to_canvas=self.show_canvas, help=lambda page: self.help.show(page))

    def _dock(self, title: str, name: str, widget: QWidget, dock: QDockWidget | None = None) -> QDockWidget:
        """A right-hand dock with its toggle in the View menu."""
        if dock is None:
            dock = QDockWidget(title, self)
            dock.setWidget(widget)
        dock.setObjectName(name)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _device_chosen(self, device: str) -> None:
        self.show_status(f"Learned models will run on: {device} (from the next fill)")
        self.fills.warm_up(self.model_picker.current_model())  # the status bar's device follows the choice

    def _connect(self) -> None:
        c = self.canvas
        c.brushSizeChanged.connect(self._brush_size_changed)
        self.brush_slider.valueChanged.connect(c.set_brush_size)
        self.brush_spin.valueChanged.connect(c.set_brush_size)
        a = self.actions
        tool_actions = {"brush": a.brush, "eraser": a.eraser, "rectangle": a.rect_select, "lasso": a.lasso, "wand": a.wand}
        c.toolChanged.connect(lambda tool: tool_actions[tool].setChecked(True))
        c.zoomChanged.connect(lambda s: self.zoom_label.setText(f"{s * 100:.0f} %"))
        c.cursorMoved.connect(lambda p: self.cursor_label.setText("" if p is None else f"{p[0]}, {p[1]}"))
        c.strokeFinished.connect(self.stroke_finished)
        self.selection.selectionApplied.connect(lambda _edit: self.stroke_finished())
        self.opacity_slider.valueChanged.connect(self._opacity_changed)
        self.auto_check.toggled.connect(a.auto_fill.setChecked)
        a.auto_fill.toggled.connect(self.auto_check.setChecked)
        self.model_picker.currentIndexChanged.connect(self._model_changed)
        self.history_panel.stepChosen.connect(self.goto_step)
        self.history_panel.compareRequested.connect(self.comparing.compare_step)
        self.fills.fillApplied.connect(lambda _edit: self._update_actions())
        self.files.saveStarted.connect(self._update_actions)
        self.files.saveEnded.connect(self._update_actions)
        self.files.saveEnded.connect(self.fills.resume)  # a fill that finished during the save
        self.files.recentChanged.connect(self.welcome.set_recent)
        self.files.loadingChanged.connect(self._update_actions)
        self.files.openFailed.connect(self.openFailed)
        self.files.photoSaved.connect(self.photoSaved)
        self.files.saveFailed.connect(self.saveFailed)
        for runner in (self.file_tasks, self.project_tasks):  # the busy bar: a photo, mask or project file in flight
            runner.busyChanged.connect(lambda _busy: self.file_bar.setVisible(self.file_tasks.busy or self.project_tasks.busy))
        self.edges.enabledChanged.connect(lambda _on: self._update_actions())
        self.edges.leaveRequested.connect(lambda: a.edges.setChecked(False))
        self.sampling.enabledChanged.connect(lambda _on: self._update_actions())
        self.sampling.entering.connect(lambda: a.edges.setChecked(False))  # one mode owns the brush
        self.sampling.leaveRequested.connect(lambda: a.sampling.setChecked(False))
        self.welcome.openRequested.connect(self.open_path)
        self.welcome.openDialogRequested.connect(self.open_dialog)

    def _restore_settings(self) -> None:
        s = self.settings
        self.canvas.set_brush_size(s.brush_size)
        self._brush_size_changed(self.canvas.brush_size)
        self.opacity_slider.setValue(round(s.overlay_opacity * 100))
        a = self.actions
        for action, on in ((a.auto_fill, s.auto_fill), (a.grain, s.grain), (a.sidecar, s.write_sidecar),
                           (a.jpeg_master, s.jpeg_master), (a.embed_original, s.embed_original)):
            action.setChecked(on)
        if not (s.model and self.model_picker.set_model(s.model)):
            # First start, or the saved model's weights are gone: the best model installed.
            if not self.model_picker.set_model(registry.default_model()):
                self.model_picker.set_model(registry.FALLBACK)
        # After the window is up: a remembered learned model gets torch loaded in the background.
        QTimer.singleShot(500, self, lambda: self.fills.warm_up(self.model_picker.current_model()))
        geometry, state = s.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        if state is not None:
            self.restoreState(state)
        self.files.rebuild_recent()

    # --- small helpers ---------------------------------------------------------------------------
    @property
    def document(self) -> Document | None:
        return self.session.document

    @property
    def display(self) -> RgbPyramid | None:
        return self.session.display

    def show_status(self, text: str, ms: int = 8000) -> None:
        if text:
            self.statusBar().showMessage(text, ms)
        else:
            self.statusBar().clearMessage()

    def show_error(self, title: str, message: str) -> None:
        self.show_status(f"{title}: {message}", 15000)
        QMessageBox.critical(self, title, message)

    def _update_actions(self) -> None:
        doc = self.document
        a = self.actions
        has = doc is not None
        for action in (a.import_mask, a.export_mask, a.clear_mask, a.invert_mask,
                       a.grow_mask, a.shrink_mask, a.edges, a.fit, a.actual, a.zoom_in, a.zoom_out,
                       a.compare_split, a.compare_difference, a.compare_step, a.back_to_canvas):
            action.setEnabled(has)
        # Esc also cancels the first photo's loading, when nothing is open yet.
        a.cancel.setEnabled(has or self.files.loading)
        for action in (a.save, a.save_as, a.fill):  # one write at a time, and it holds the photo still
            action.setEnabled(has and not self.files.saving)
        layered = self.sampling.enabled  # its own strokes undo first
        a.undo.setEnabled(has and (doc.can_undo or layered))
        a.redo.setEnabled(has and (doc.can_redo or layered))
        a.redo_alt.setEnabled(has and (doc.can_redo or layered))
        if has:
            path = doc.photo.path or doc.saved_path  # a pasted photo is named by its first save
            name = path.name if path else "untitled"
            partly = " (partly read: the file is truncated)" if doc.photo.meta.extra.get("truncated") else ""
            self.setWindowTitle(f"{name}[*]{partly} — Restorer")
            self.setWindowModified(doc.dirty)
        else:
            self.setWindowTitle("Restorer")

    def _brush_size_changed(self, size: int) -> None:
        for w in (self.brush_slider, self.brush_spin):
            w.blockSignals(True)
            w.setValue(size)
            w.blockSignals(False)
        self.settings.brush_size = size

    def _opacity_changed(self, value: int) -> None:
        self.settings.overlay_opacity = value / 100
        self.canvas.set_overlay_opacity("mask", value / 100)

    def _model_changed(self, _index: int) -> None:
        name = self.model_picker.current_model()
        if name:
            self.settings.model = name
            self.fills.warm_up(name)
        self.edges.model_changed()

    def set_mask_visible(self, on: bool) -> None:
        self.canvas.set_overlay_visible("mask", on)

    def zoom_step(self, direction: int) -> None:
        c = self.canvas
        c.zoom_at(1.25**direction, c.rect().center().toPointF())

    # --- the document ------------------------------------------------------------------------------
    def install(self, path: Path | None, doc: Document, display: RgbPyramid, mask_pyramid: MaskPyramid) -> None:
        """Make ``doc`` the open document; ``path`` None for one without a file (pasted)."""
        self.session.install(path, doc, display, mask_pyramid)

    def _before_replace(self) -> None:
        self.canvas.abort_stroke()
        if self.fills.running:
            self.fills.cancel()
        self.edges.reset()
        self.detect.reset()
        self.sampling.reset()

    def _replaced(self, doc: Document) -> None:
        path, display, mask_pyramid = self.session.path, self.session.display, self.session.mask_display
        assert display is not None and mask_pyramid is not None
        self.comparing.forget()
        self.files.forget_save_path()
        self.canvas.set_display(display)
        self.welcome.hide()
        self.zoom_label.setText(f"{self.canvas.scale * 100:.0f} %")
        self.canvas.set_overlay("mask", mask_pyramid, MASK_COLOR, self.opacity_slider.value() / 100)
        self.canvas.set_overlay_visible("mask", self.actions.show_mask.isChecked())
        self.canvas.target = doc
        self.history_panel.set_document(doc)
        self.show_canvas()
        if path is not None:
            self.settings.last_folder = str(path.parent)
            self.settings.add_recent(path)
            self.files.rebuild_recent()
        self._update_actions()
        self.canvas.setFocus()
        h, w = doc.shape
        name = path.name if path is not None else "an untitled photo"
        shown = f"; shown from {display.transform.source} to the screen's colours" if display.transform else ""
        self.show_status(f"Opened {name}: {w} x {h}, {doc.pixels.shape[2]} channel(s), {doc.pixels.dtype.itemsize * 8}-bit{shown}")
        self.photoOpened.emit(str(path) if path is not None else "")

    def _on_doc_event(self, kind: str, box: tuple[int, int, int, int] | None) -> None:
        if kind == "mask":
            self.canvas.overlay_changed("mask", box, self.session.take_tiles("mask"))
            self.edges.mask_changed()
        elif kind == "guides":
            self.edges.guides_changed(box)
        elif kind == "photo" and self.document is not None:
            self.canvas.photo_changed(self.document.pixels, box, self.session.take_tiles("photo"))
        if kind in ("history", "saved") or not self.canvas.stroking:
            self._update_actions()

    # --- files (the work is in file_commands.py) ------------------------------------------------------
    def open_dialog(self) -> None:
        self.files.open_dialog()

    def open_path(self, path: str | Path) -> bool:
        """Start loading ``path`` in the background; False when the user kept the current photo."""
        return self.files.open_path(path)

    def save(self) -> bool:
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def paste(self) -> bool:
        """Ctrl+V: the clipboard's image becomes a new untitled photo."""
        return self.files.open_image(clipboard.image_from_mime(QApplication.clipboard().mimeData()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if clipboard.wants_drop(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        opener = clipboard.drop_opener(event.mimeData(), self.open_path, self.files.open_image)
        if opener is not None:
            event.acceptProposedAction()
            # Open after the drop returns, so the drag source is not kept waiting on a dialog.
            QTimer.singleShot(0, self, opener)

    # --- comparison ------------------------------------------------------------------------------
    def show_canvas(self) -> None:
        self.comparing.show_canvas()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == HOLD_KEY and not event.isAutoRepeat():
            self.comparing.hold_original(True)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == HOLD_KEY and not event.isAutoRepeat():
            self.comparing.hold_original(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # --- closing ---------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        # Unsaved work is discarded, or saved first: the window then closes itself once the file
        # is written (and stays open if the save fails). A save in flight is waited for the same way.
        if not self.files.confirm_discard(self.close, "the window closes"):
            event.ignore()
            return
        self.canvas.abort_stroke()
        self.settings.save_window_layout(self.saveGeometry(), self.saveState())
        self.settings.sync()
        # Quitting must not wait for a model load or a long network call (seconds; neither can be
        # interrupted): after a short wait the fill thread is left to the process's end (see
        # app.main). A write in flight is always waited for, so the file is whole or untouched.
        self.shutdown(fill_wait_ms=QUIT_WAIT_MS)
        event.accept()

    def shutdown(self, fill_wait_ms: int = 30000) -> None:
        """Stop the background threads (cancel, quit, wait): nothing runs after the window is gone,
        except a fill thread still busy after ``fill_wait_ms`` (``threads_running`` says so)."""
        self.tasks.shutdown(fill_wait_ms)
        self.fills.shutdown()
        self.file_tasks.shutdown()  # waits for a write in flight: the file is then whole or untouched
        self.project_tasks.shutdown()
        self.files.shutdown()
        self.projects.shutdown()  # a clean quit: the recovery copy goes

    def threads_running(self) -> bool:
        return not (self.tasks.finished and self.file_tasks.finished and self.project_tasks.finished)


