"""Shared pieces of the painting-inpainting tools: images, data, masks, inpainting, metrics, plots.

Importing this package sets TensorFlow's environment before TensorFlow itself is imported.
"""
import os

# oneDNN kernels are off by default on AMD CPUs; on the 2-core machine this project is developed
# on they double matrix and convolution speed. They only take effect if set before TF loads.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
