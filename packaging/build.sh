#!/usr/bin/env bash
# Build the Restorer bundle (dist/restorer/) with PyInstaller, then smoke-test the built programs offscreen.
#
#   packaging/build.sh             build the committed tree (git HEAD) + smoke test
#   packaging/build.sh --worktree  build the working tree as it is on disk, uncommitted edits too
#   packaging/build.sh --no-build  smoke-test an existing dist/restorer/ again
#
# By default the sources come from `git archive HEAD` (into build/src), so half-finished edits in
# the working tree never end up in a bundle; weights/ is copied from the working tree (data).
#
# Needs: pip install pyinstaller (plus the app's own dependencies). Not run in CI: it takes minutes
# and writes ~1 GB under build/ and dist/ (both git-ignored). Exit status 0 only if every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python}"
DIST="$ROOT/dist/restorer"
REPORT="$ROOT/build/packaging-report.txt"

MODE="${1:-head}"
case "$MODE" in head|--worktree|--no-build) ;; *) echo "usage: $0 [--worktree | --no-build]" >&2; exit 2;; esac

if [[ "$MODE" != "--no-build" ]]; then
    "$PYTHON" -m PyInstaller --version >/dev/null 2>&1 || {
        echo "PyInstaller is not installed: $PYTHON -m pip install pyinstaller" >&2
        exit 2
    }
    mkdir -p build
    start=$(date +%s)
    REV="$(git -C "$ROOT" rev-parse --short HEAD)"
    SRC="$ROOT"
    if [[ "$MODE" == head ]]; then
        SRC="$ROOT/build/src"
        rm -rf "$SRC" && mkdir -p "$SRC"
        git -C "$ROOT" archive HEAD | tar -x -C "$SRC"
        mkdir -p "$SRC/weights"
        find "$ROOT/weights" -maxdepth 1 \( -name '*.safetensors' -o -name '*.json' \) -exec cp {} "$SRC/weights/" \;
        echo "building git HEAD $REV from $SRC"
    fi
    # nice: the build is CPU-heavy for minutes; keep the desktop (and other work) responsive.
    nice -n 10 "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" "$SRC/packaging/restorer.spec"
    seconds=$(( $(date +%s) - start ))
    {
        echo "built: $(date -u +%Y-%m-%dT%H:%MZ) from ${MODE#--} (HEAD $REV) on $(nproc) CPU cores in ${seconds} s"
        echo "size:  $(du -sh "$DIST" | cut -f1) in $(find "$DIST" -type f | wc -l) files"
        echo "compressed (tar.gz): $(tar -C "$ROOT/dist" -czf - restorer | wc -c | awk '{printf "%.0f MB", $1/1048576}')"
    } | tee "$REPORT"
fi

[[ -x "$DIST/restorer" && -x "$DIST/restorer-cli" ]] || { echo "no built programs in $DIST" >&2; exit 1; }

# --- smoke tests: run the built programs, not the source tree ---------------------------------------
export QT_QPA_PLATFORM=offscreen
WORK="$(mktemp -d)"
GUI_PID=""
cleanup() {
    if [[ -n "$GUI_PID" ]] && kill -0 "$GUI_PID" 2>/dev/null; then kill "$GUI_PID"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"  # so nothing can be imported from the source tree by accident

echo "== LICENSE and the weights' terms are in the bundle"
grep -q "GNU GENERAL PUBLIC LICENSE" "$DIST/_internal/LICENSE" 2>/dev/null || grep -q "GNU GENERAL PUBLIC LICENSE" "$DIST/LICENSE" \
    || { echo "LICENSE is missing from the bundle" >&2; exit 1; }
if ls "$ROOT"/weights/*.json >/dev/null 2>&1; then
    find "$DIST" -path '*weights/TERMS.txt' | grep -q . || { echo "weights/TERMS.txt is missing from the bundle" >&2; exit 1; }
fi

echo "== restorer-cli --version"
"$DIST/restorer-cli" --version

echo "== restorer-cli models"
"$DIST/restorer-cli" models

echo "== restorer-cli inpaint (telea) on a generated photo"
"$PYTHON" - <<'EOF'
import numpy as np
from PIL import Image
rng = np.random.default_rng(0)
y, x = np.mgrid[0:120, 0:160]
photo = np.stack([x * 1.5, y * 2.0, (x + y) * 0.8], axis=2) + rng.normal(0, 4, (120, 160, 3))
Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save("photo.png")
mask = np.zeros((120, 160), dtype=np.uint8)
mask[55:62, 20:140] = 255  # a scratch
Image.fromarray(mask).save("mask.png")
EOF
check_fill() {  # $1: the filled file; its pixels outside the mask must be bit-identical
    "$PYTHON" - "$1" <<'EOF'
import sys
import numpy as np
from PIL import Image
photo, out = np.asarray(Image.open("photo.png")), np.asarray(Image.open(sys.argv[1]))
hole = np.asarray(Image.open("mask.png")) > 0
assert out.shape == photo.shape and out.dtype == photo.dtype, (out.shape, out.dtype)
assert np.array_equal(out[~hole], photo[~hole]), "pixels outside the mask changed"
assert not np.array_equal(out[hole], photo[hole]), "the hole was not filled"
print(f"{sys.argv[1]}: scratch filled; every pixel outside the mask unchanged")
EOF
}
"$DIST/restorer-cli" inpaint photo.png --mask mask.png --output filled.png --model telea --quiet
check_fill filled.png

echo "== learned models: torch inside the bundle"
learned=$("$DIST/restorer-cli" models --json | "$PYTHON" -c 'import json, sys
print(" ".join(m["name"] for m in json.load(sys.stdin)
               if m["state"] == "ready" and m["name"] not in ("telea", "navier-stokes")))')
if [[ -n "$learned" ]]; then
    for model in $learned; do
        "$DIST/restorer-cli" inpaint photo.png --mask mask.png --output "filled-$model.png" \
            --model "$model" --device cpu --quiet
        check_fill "filled-$model.png"
    done
else
    # A bundle without weights: one tiny training step still loads torch and runs a network.
    echo "no learned model has weights in this bundle; running one tiny training step instead"
    mkdir -p data && cp photo.png data/
    "$DIST/restorer-cli" train --model partialconv --run-dir run --data data --mask-dir '' --width 8 \
        --depth 3 --crop 64 --batch 1 --steps 1 --workers 0 --threads 1 --device cpu --no-amp \
        --val-every 0 --ckpt-every 1 --quiet
    [[ -s run/latest.pt ]] || { echo "training wrote no checkpoint" >&2; exit 1; }
    echo "torch ran a training step"
fi

echo "== restorer (desktop app), offscreen"
if "$DIST/restorer" --help 2>&1 | grep -q -- "--smoke-test"; then
    # The app opens the photo, runs its own checks and quits with 0.
    timeout 180 "$DIST/restorer" --smoke-test photo.png
    echo "app smoke test passed"
else
    # This app build has no --smoke-test: start it on the photo and require that it is still up
    # (event loop running, no traceback) after a while, then close it.
    "$DIST/restorer" photo.png >gui.log 2>&1 &
    GUI_PID=$!
    sleep "${RESTORER_SMOKE_SECONDS:-20}"
    if ! kill -0 "$GUI_PID" 2>/dev/null; then
        wait "$GUI_PID" && status=0 || status=$?
        echo "the app exited early with status $status:" >&2
        cat gui.log >&2
        exit 1
    fi
    if grep -q "Traceback" gui.log; then
        echo "the app printed a traceback:" >&2
        cat gui.log >&2
        exit 1
    fi
    kill "$GUI_PID"
    GUI_PID=""
    echo "app started on the photo and kept running for ${RESTORER_SMOKE_SECONDS:-20} s without errors"
fi

echo "== all smoke tests passed"
[[ -f "$REPORT" ]] && cat "$REPORT"
exit 0
