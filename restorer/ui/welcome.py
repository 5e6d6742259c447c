"""WelcomePanel: what the empty window shows before a photo is open: how to start, and the recent files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

HINT = "Open a photo (Ctrl+O) or drop one here"


class WelcomePanel(QWidget):
    """A hint and up to ten recent photos, each a button; a missing file is shown but cannot be clicked."""

    openRequested = Signal(str)  # a recent photo's path
    openDialogRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setStyleSheet(
            "#welcome QLabel { color: #d0d0d0; }"
            "#welcome QLabel#hint { font-size: 18pt; }"
            "#welcome QPushButton { color: #9cc8ff; background: transparent; border: none; text-align: left; padding: 2px 6px; }"
            "#welcome QPushButton:hover { text-decoration: underline; }"
            "#welcome QPushButton:disabled { color: #777777; }")
        layout = QVBoxLayout(self)
        self.hint = QLabel(HINT)
        self.hint.setObjectName("hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.more = QLabel("or paste an image (Ctrl+V). Help > Getting Started (F1) shows the steps.")
        self.more.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.open_button = QPushButton("Open a photo…")
        self.open_button.clicked.connect(self.openDialogRequested)
        self.recent_title = QLabel("<b>Recent photos</b>")
        layout.addWidget(self.hint)
        layout.addWidget(self.more)
        layout.addSpacing(8)
        layout.addWidget(self.open_button, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(16)
        layout.addWidget(self.recent_title)
        self._recent_layout = QVBoxLayout()
        layout.addLayout(self._recent_layout)
        self.recent_buttons: list[QPushButton] = []
        self.set_recent([])

    def set_recent(self, entries: list[str]) -> None:
        for button in self.recent_buttons:
            self._recent_layout.removeWidget(button)
            button.deleteLater()
        self.recent_buttons = []
        for entry in entries:
            path = Path(entry)
            exists = path.is_file()
            button = QPushButton(f"{path.name}  —  {path.parent}" if exists else f"{path.name}  (missing: {path.parent})")
            button.setToolTip(entry)
            button.setEnabled(exists)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _checked=False, p=entry: self.openRequested.emit(p))
            self._recent_layout.addWidget(button)
            self.recent_buttons.append(button)
        self.recent_title.setVisible(bool(entries))
