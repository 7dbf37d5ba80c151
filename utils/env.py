"""TensorFlow's environment, prepared by each entry point (utils.cli.run, the benches, the tests'
conftest) before anything imports TensorFlow; importing a package never does it.

prepare() sets the variables TensorFlow reads when it loads, and keeps its start-up lines
(absl's "All log messages before absl::InitializeLog()", the oneDNN notice, "failed call to
cuInit" on a machine without a GPU) off the terminal: they are written by C++ before any log
level applies, so the only way to hide them is to point the process's stderr elsewhere while
TensorFlow loads and looks for devices (PAINTINGS_TF_LOGS=1 shows them).
"""
import importlib.abc
import importlib.util
import os
import sys


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


def prepare(restoring=False):
    """Set TensorFlow's environment and quiet its start-up; too late (and harmless) once
    TensorFlow is loaded, so an entry point calls it before importing anything that loads it.
    restoring=True for the tools that restore (a variable the user set is kept either way)."""
    # oneDNN kernels are off by default on AMD CPUs; on the 2-core machine this project is
    # developed on they double training's matrix and convolution speed, and the detector's.
    # Restoring also asks for them to allocate from the system: oneDNN's own allocator keeps
    # the largest working set it ever held (the detector's on a 1,600-px copy: 1.5 GB) for the
    # rest of the process (a 100-MP run's peak 4.39 GB with it; docs/detection.md).
    # Read only when TF loads.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if restoring:
        os.environ.setdefault("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    quiet = os.environ.get("PAINTINGS_TF_LOGS") != "1"
    if quiet and "tensorflow" not in sys.modules and \
            not any(isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())
