"""PyInstaller entry for the `restorer` desktop app (same as the `restorer` console script)."""

from restorer.ui.app import main

raise SystemExit(main())
