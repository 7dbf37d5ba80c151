#!/usr/bin/env bash
# One command for a new user: create .venv from requirements.txt (once), then train the Context
# Encoder. With no arguments it trains on scikit-image's sample photographs (or your images in
# data/); any arguments are passed to train_context_encoder.py, e.g. ./run.sh --data ~/paintings
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import tensorflow, keras, cv2, skimage" 2>/dev/null; then
    echo "setting up .venv (TensorFlow, Keras, OpenCV, scikit-image; a few minutes, once)"
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt
fi
exec .venv/bin/python train_context_encoder.py "$@"
