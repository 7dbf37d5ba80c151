#!/usr/bin/env bash
# One command for a new user: create .venv from requirements.txt (once, idempotent), then the
# main job on an embedded default: restore a damaged painting made here (demo.py).
#   ./run.sh              set up, then restore the demo painting into demo/restored/
#   ./run.sh --setup      set up only
#   ./run.sh app [ARGS]   the workbench (app.py; default: the demo folder)
#   ./run.sh train [ARGS] train the Context Encoder (train_context_encoder.py ARGS)
set -euo pipefail
cd "$(dirname "$0")"
setup() {
    if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import tensorflow, keras, cv2, skimage" 2>/dev/null; then
        echo "setting up .venv (TensorFlow, Keras, OpenCV, scikit-image; a few minutes, once)"
        python3 -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -r requirements.txt
    fi
}
case "${1:-}" in
    --setup) setup; echo ".venv is ready: ./run.sh restores the demo painting" ;;
    app) shift; setup
         if [ $# -eq 0 ]; then set -- demo -o demo/restored; fi
         exec .venv/bin/python app.py "$@" ;;
    train) shift; setup; exec .venv/bin/python train_context_encoder.py "$@" ;;
    "") setup; exec .venv/bin/python demo.py ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) echo "error: unknown command $1: ./run.sh, ./run.sh --setup, ./run.sh app or ./run.sh train ... (./run.sh --help)" >&2; exit 2 ;;
esac
