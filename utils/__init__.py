"""Shared pieces of the painting-inpainting tools: images, data, masks, inpainting, metrics, plots.

Importing this package sets TensorFlow's environment before TensorFlow itself is imported, and
keeps TensorFlow's start-up lines (absl's "All log messages before absl::InitializeLog()", the
oneDNN notice, "failed call to cuInit" on a machine without a GPU) off the terminal: they are
written by C++ before any log level applies, so the only way to hide them is to point the
process's stderr elsewhere while TensorFlow loads and looks for devices.
"""
import importlib.abc
import importlib.util
import os
import sys

# oneDNN kernels are off by default on AMD CPUs; on the 2-core machine this project is developed
# on they double matrix and convolution speed. They only take effect if set before TF loads.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Loads tensorflow (once, whoever imports it first) with stderr sent to /dev/null."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        sys.stderr.flush()
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        try:
            self.loader.exec_module(module)
            module.config.list_physical_devices()  # the device search prints cuInit's error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)


if "tensorflow" not in sys.modules and os.environ.get("PAINTINGS_TF_LOGS") != "1":
    sys.meta_path.insert(0, _QuietTensorFlow())
