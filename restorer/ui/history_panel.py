"""The history panel: a list of the document's steps with thumbnails, for going back and forth.

Public API (all the main window needs)::

    panel = HistoryPanel(parent=None, thumbnail_size=64)
    panel.set_document(doc | None)      # a restorer.core.document.Document; listens to its events
    panel.stepChosen: Signal(int)       # the user picked history index i (0 = original); the main
                                        # window calls doc.goto(i) - the panel never changes the doc
    panel.compareRequested: Signal(int) # "compare this step" (context menu, or C on a row), i >= 1
    panel.cursor_step() -> int          # the history index under the keyboard cursor (the row
                                        # last clicked or moved to; the current state otherwise)
    panel.model() -> HistoryModel       # a QAbstractListModel over doc.history
    panel.view() -> QListView

Rows: an optional note ("N older steps dropped to stay within the memory limit"), "Original",
then one row per step, labelled with the step's label and a thumbnail of the step's region after
it (mask changes tinted). The current step is highlighted (bold, selection colours); steps after
it (the ones redo brings back) are dimmed. Mouse click, or Up/Down then Enter/Space, picks a row.
Thumbnails are made lazily when a row is first drawn and cached per step.

Data roles on HistoryModel (for tests and custom delegates): IndexRole (history index, -1 for the
note), StateRole ('current' | 'done' | 'undone' | 'note'), DimmedRole (bool), KindRole (the
Edit's kind, 'original' or 'note'), ThumbnailRole (uint8 h x w x 3 ndarray, made on demand).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFont, QGuiApplication, QKeyEvent, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QVBoxLayout, QWidget

from restorer.core.document import Document
from restorer.ui.comparison_images import THUMB_SIZE, state_thumbnail, step_thumbnail
from restorer.ui.convert import rgb8_to_qimage

_AnyIndex = QModelIndex | QPersistentModelIndex


def _dimmed(rgb: np.ndarray) -> np.ndarray:
    # Redo-able steps: half-way to mid grey, so the picture is still recognisable.
    return ((rgb.astype(np.uint16) + 128) // 2).astype(np.uint8)


class HistoryModel(QAbstractListModel):
    """Adapts a Document's history to a list: [note], Original, step 1, ..., step n."""

    IndexRole = Qt.ItemDataRole.UserRole + 1
    StateRole = Qt.ItemDataRole.UserRole + 2
    DimmedRole = Qt.ItemDataRole.UserRole + 3
    KindRole = Qt.ItemDataRole.UserRole + 4
    ThumbnailRole = Qt.ItemDataRole.UserRole + 5

    _changed = Signal()  # re-emitted from document callbacks so other threads get queued

    def __init__(self, parent: QObject | None = None, thumbnail_size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self._doc: Document | None = None
        self._listener: Callable[[Any], None] | None = None
        self._steps: list[Any] = []
        self._index = 0
        self._dropped = 0
        self._size = thumbnail_size
        # Edits compare by identity, so they key the cache; the start state has key None.
        self._thumbs: dict[Any, tuple[np.ndarray, QPixmap, QPixmap]] = {}
        self._changed.connect(self.sync, Qt.ConnectionType.AutoConnection)

    # --- document ----------------------------------------------------------------------------

    def document(self) -> Document | None:
        return self._doc

    def set_document(self, doc: Document | None) -> None:
        if self._doc is not None and self._listener is not None:
            self._doc.remove_listener(self._listener)
        self.beginResetModel()
        self._doc = doc
        self._listener = None
        self._thumbs.clear()
        self._steps, self._index, self._dropped = self._snapshot()
        self.endResetModel()
        if doc is not None:
            self._listener = _weak_listener(self)
            doc.add_listener(self._listener)

    def _snapshot(self) -> tuple[list[Any], int, int]:
        if self._doc is None:
            return [], 0, 0
        history = self._doc.history
        return list(history.steps), int(history.index), int(getattr(history, "dropped", 0))

    def sync(self) -> None:
        """Bring the rows up to date with the document (cheap when nothing changed)."""
        steps, index, dropped = self._snapshot()
        old = self._steps
        if (dropped > 0) != (self._dropped > 0) or (old and steps and old[0] is not steps[0]):
            # Older steps were dropped (or a different history): rows shifted, start over.
            self.beginResetModel()
            self._steps, self._index, self._dropped = steps, index, dropped
            self._thumbs.pop(None, None)  # state 0 is now a later state of the photo
            self._prune_thumbs()
            self.endResetModel()
            return
        common = 0
        for a, b in zip(old, steps):
            if a is not b:
                break
            common += 1
        offset = self._offset() + 1  # row of step 1
        if common < len(old):
            self.beginRemoveRows(QModelIndex(), offset + common, offset + len(old) - 1)
            self._steps = old[:common]
            self.endRemoveRows()
        if len(steps) > common:
            self.beginInsertRows(QModelIndex(), offset + common, offset + len(steps) - 1)
            self._steps = steps
            self.endInsertRows()
        self._steps = steps
        changed_index = index != self._index or dropped != self._dropped
        self._index, self._dropped = index, dropped
        if changed_index and self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1))
        self._prune_thumbs()

    def _prune_thumbs(self) -> None:
        alive = set(self._steps) | {None}
        for key in [k for k in self._thumbs if k not in alive]:
            del self._thumbs[key]

    # --- rows --------------------------------------------------------------------------------

    def _offset(self) -> int:
        return 1 if self._dropped > 0 else 0

    def current_index(self) -> int:
        return self._index

    def row_for_step(self, history_index: int) -> int:
        return self._offset() + history_index

    def step_for_row(self, row: int) -> int:
        """The history index of a row, or -1 for the note row."""
        i = row - self._offset()
        return i if 0 <= i <= len(self._steps) else -1

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        if parent.isValid() or self._doc is None:
            return 0
        return self._offset() + 1 + len(self._steps)

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if self.step_for_row(index.row()) < 0:
            return Qt.ItemFlag.NoItemFlags  # the note can't be picked
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def _state(self, i: int) -> str:
        if i < 0:
            return "note"
        if i == self._index:
            return "current"
        return "done" if i < self._index else "undone"

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        i = self.step_for_row(index.row())
        state = self._state(i)
        R = Qt.ItemDataRole
        if role == R.DisplayRole:
            return self._label(i)
        if role in (R.ToolTipRole, R.AccessibleTextRole):
            if i < 0:
                return self._label(i)
            where = {"current": "current state", "done": "", "undone": "undone; click to redo"}[state]
            text = f"Step {i} of {len(self._steps)}: {self._label(i)}" if i else "Original photo"
            return f"{text} ({where})" if where else text
        if role == self.IndexRole:
            return i
        if role == self.StateRole:
            return state
        if role == self.DimmedRole:
            return state == "undone"
        if role == self.KindRole:
            return "note" if i < 0 else "original" if i == 0 else str(self._steps[i - 1].kind)
        if role == R.DecorationRole and i >= 0:
            thumb = self._thumbnail(i)
            return thumb[2] if state == "undone" else thumb[1]
        if role == self.ThumbnailRole and i >= 0:
            return self._thumbnail(i)[0]
        if role == R.FontRole and state in ("current", "note"):
            font = QFont(QGuiApplication.font())
            font.setBold(state == "current")
            font.setItalic(state == "note")
            return font
        palette = QGuiApplication.palette()
        if role == R.BackgroundRole and state == "current":
            return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
        if role == R.ForegroundRole:
            if state == "current":
                return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
            if state in ("undone", "note"):
                return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if role == R.SizeHintRole:
            return QSize(self._size + 8, self._size + 8) if i >= 0 else None
        return None

    def _label(self, i: int) -> str:
        if i < 0:
            n = self._dropped
            return f"{n} older step{'s' if n != 1 else ''} dropped to stay within the memory limit"
        if i == 0:
            return "Original" if self._dropped == 0 else "Oldest kept state"
        return str(self._steps[i - 1].label)

    # --- thumbnails --------------------------------------------------------------------------

    def _thumbnail(self, i: int) -> tuple[np.ndarray, QPixmap, QPixmap]:
        key = None if i == 0 else self._steps[i - 1]
        cached = self._thumbs.get(key)
        if cached is None:
            # Rebuilt from the history's patches, so it is right even for undone steps.
            assert self._doc is not None  # rows exist only while a document is shown
            if i == 0:
                rgb = state_thumbnail(self._doc, 0, self._size)
            else:
                rgb = step_thumbnail(self._doc, i, self._size)
            cached = self._thumbs[key] = self._pixmaps(rgb)
        return cached

    @staticmethod
    def _pixmaps(rgb: np.ndarray) -> tuple[np.ndarray, QPixmap, QPixmap]:
        return rgb, QPixmap.fromImage(rgb8_to_qimage(rgb)), QPixmap.fromImage(rgb8_to_qimage(_dimmed(rgb)))


def _weak_listener(model: HistoryModel) -> Callable[[Any], None]:
    # The document must not keep a deleted panel alive, nor call into one.
    ref = weakref.ref(model)

    def on_event(event: Any) -> None:
        # Painting sends a 'mask' event per mouse move; only history changes alter the rows.
        if getattr(event, "kind", None) in ("mask", "photo", "guides"):
            return
        m = ref()
        if m is not None:
            try:
                m._changed.emit()
            except RuntimeError:  # the C++ side is gone; the owner forgot set_document(None)
                pass

    return on_event


class HistoryListView(QListView):
    """A QListView that also picks the focused row with Enter, Return or Space."""

    rowPicked = Signal(int)
    compareKeyPressed = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        current = self.currentIndex()
        if current.isValid() and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.rowPicked.emit(current.row())
            event.accept()
            return
        if current.isValid() and key == Qt.Key.Key_C and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.compareKeyPressed.emit(current.row())
            event.accept()
            return
        super().keyPressEvent(event)


class HistoryPanel(QWidget):
    """The history list; see the module docstring for the API."""

    stepChosen = Signal(int)
    compareRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, thumbnail_size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self.setObjectName("HistoryPanel")
        self._model = HistoryModel(self, thumbnail_size)
        self._view = HistoryListView(self)
        self._view.setObjectName("HistoryView")
        self._view.setModel(self._model)
        self._view.setIconSize(QSize(thumbnail_size, thumbnail_size))
        self._view.setUniformItemSizes(False)  # the note row is shorter
        self._view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # The highlight shows the document's current step (a data role), not a selection that
        # could disagree with it; the focus rectangle is the keyboard cursor.
        self._view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self._view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._view.setAccessibleName("History")
        self._view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._view.clicked.connect(lambda index: self._pick(index.row()))
        self._view.rowPicked.connect(self._pick)
        self._view.compareKeyPressed.connect(self._compare)
        self._view.customContextMenuRequested.connect(self._context_menu)
        self._model.modelReset.connect(self._follow_current)
        self._model.rowsInserted.connect(self._follow_current)
        self._model.dataChanged.connect(self._follow_current)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view)
        self.setFocusProxy(self._view)

    def set_document(self, doc: Document | None) -> None:
        """Show doc's history (None: empty). Detaches from the previous document."""
        self._model.set_document(doc)

    def document(self) -> Document | None:
        return self._model.document()

    def model(self) -> HistoryModel:
        return self._model

    def view(self) -> QListView:
        return self._view

    def cursor_step(self) -> int:
        """The history index under the keyboard cursor; the document's current state if none."""
        index = self._view.currentIndex()
        i = self._model.step_for_row(index.row()) if index.isValid() else -1
        return i if i >= 0 else self._model.current_index()

    def _pick(self, row: int) -> None:
        i = self._model.step_for_row(row)
        if i >= 0:
            self.stepChosen.emit(i)

    def _compare(self, row: int) -> None:
        i = self._model.step_for_row(row)
        if i >= 1:
            self.compareRequested.emit(i)

    def _context_menu(self, pos: Any) -> None:
        index = self._view.indexAt(pos)
        i = self._model.step_for_row(index.row()) if index.isValid() else -1
        if i < 0:
            return
        menu = QMenu(self)
        go = QAction("Go to this step", menu)
        go.triggered.connect(lambda: self.stepChosen.emit(i))
        menu.addAction(go)
        if i >= 1:
            compare = QAction("Compare before/after", menu)
            compare.triggered.connect(lambda: self.compareRequested.emit(i))
            menu.addAction(compare)
        menu.exec(self._view.viewport().mapToGlobal(pos))

    def _follow_current(self, *_args: Any) -> None:
        # Keep the current step in sight and the keyboard cursor on it after every change.
        if self._model.rowCount() == 0:
            return
        index = self._model.index(self._model.row_for_step(self._model.current_index()))
        self._view.setCurrentIndex(index)
        self._view.scrollTo(index)
