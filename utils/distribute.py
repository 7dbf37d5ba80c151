"""Training on several devices or machines with tf.distribute: the strategy a train script's
--distribute names, which process is the chief, the learning rate's scaling with the global
batch, and the reductions a custom train_step needs to compute its losses over the global batch.

none          one device (TensorFlow's default strategy): the single-machine default.
mirrored      every local GPU, or with none, the CPU's logical devices (--cpu-devices N splits
              the CPU into N, to rehearse a multi-device run without GPUs on the same cores).
multi-worker  MultiWorkerMirroredStrategy over the cluster that TF_CONFIG describes, the same
              command started on every machine; the chief (task "chief", or worker 0 when the
              cluster has none) writes the run folder, which every worker reads to resume.

--batch-size is each replica's batch; the global batch is that times the replicas, and the
learning rate is scaled by --lr-scaling: sqrt (the square-root rule for Adam, Malladi et al.
2022, the default), linear (Goyal et al. 2017, for SGD) or none.
"""
import json
import logging
import math
import os

from utils.errors import UserError

MODES = ("none", "mirrored", "multi-worker")
# The private Keras names this module replaces or calls (written against Keras 3.15), with the
# parameters it relies on: if a Keras release renames one or changes its parameters, the fix
# below would silently stop applying, so make_strategy stops instead, saying which and why.
PRIVATE_API = {
    "keras.optimizers.Adam._clip_gradients": ("self", "grads"),
    "keras.optimizers.Adam._all_reduce_sum_gradients": ("self", "grads_and_vars"),
    "keras.Model._maybe_symbolic_build": ("self", "iterator", "data_batch"),
    "keras.Model._symbolic_build": ("self", "iterator", "data_batch"),
    "keras.src.backend.tensorflow.trainer.reduce_per_replica": ("values", "strategy",
                                                                "reduction"),
}
LR_SCALINGS = {"sqrt": math.sqrt, "linear": float, "none": lambda replicas: 1.0}


def _lookup(dotted):
    """The object a dotted name stands for, importing its module; None where it is missing."""
    import importlib
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name, None)
        return found
    return None


def check_private_api(expected=None):
    """Stop with one line naming the Keras version if a private name in expected (default
    PRIVATE_API) is gone or takes other parameters."""
    import inspect

    import keras
    for dotted, parameters in (expected or PRIVATE_API).items():
        found = _lookup(dotted)
        try:
            have = tuple(inspect.signature(found).parameters) if found is not None else None
        except (TypeError, ValueError):
            have = None
        if have != parameters:
            shown = "is missing" if found is None else f"takes ({', '.join(have or ())})"
            raise UserError(f"Keras {keras.__version__} is not supported: utils/distribute.py "
                            f"replaces its private {dotted}({', '.join(parameters)}), which "
                            f"{shown} in this version; install the Keras that requirements.txt "
                            f"names")


def split_cpu(count):
    """Make the CPU count logical devices; only possible before TensorFlow starts its runtime."""
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        raise UserError("--cpu-devices must take effect before TensorFlow starts: it cannot "
                        "here") from None


def make_strategy(mode, cpu_devices=None):
    """The tf.distribute strategy for --distribute mode. Made first thing in a process:
    MultiWorkerMirroredStrategy must be created before TensorFlow runs any operation."""
    import tensorflow as tf

    # every run starts here; checked here, not on import, so that reading --help loads no Keras
    check_private_api()

    # tf.distribute reports every all-reduce it plans at INFO level
    logging.getLogger("tensorflow").setLevel(logging.WARNING)
    if cpu_devices and cpu_devices > 1:
        split_cpu(cpu_devices)
    if mode == "none":
        return tf.distribute.get_strategy()
    if mode == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    # mode == "multi-worker" (argparse allows no other)
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        raise UserError('--distribute multi-worker needs the cluster in the TF_CONFIG '
                        'environment variable, e.g. TF_CONFIG=\'{"cluster": {"worker": '
                        '["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
                        '"index": 0}}\' on the first machine (index 1 on the second)')
    try:
        config = json.loads(text)
    except ValueError:
        config = None
    if not isinstance(config, dict) or not {"cluster", "task"} <= config.keys():
        raise UserError(f"TF_CONFIG is not a cluster description ({text[:80]!r}): it needs "
                        f'"cluster" and "task", as in the README')
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief(strategy):
    """Whether this process writes the run: the only process, the cluster's "chief" task, or
    worker 0 of a cluster without one."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_count(strategy):
    """How many processes train together: 1 on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1
    cluster = resolver.cluster_spec().as_dict()
    return len(cluster.get("chief", [])) + len(cluster.get("worker", []))


def agree(strategy, value, what):
    """Check that every worker holds the same number (the epochs its checkpoint finished): a
    worker that cannot see the chief's run folder would train from another start and hang."""
    import tensorflow as tf
    if worker_count(strategy) == 1:
        return

    def sums():
        here = tf.constant(float(value), tf.float64)
        return tf.distribute.get_replica_context().all_reduce(
            "SUM", tf.stack([tf.ones_like(here), here, here * here]))
    count, total, squares = strategy.experimental_local_results(strategy.run(sums))[0].numpy()
    # equal everywhere exactly when count * sum of squares == sum squared (Cauchy-Schwarz)
    if not math.isclose(count * squares, total * total, rel_tol=1e-12):
        raise UserError(f"the workers disagree on {what} (between {total / count:g} on average "
                        f"and this worker's {value:g}): the run folder must be on a filesystem "
                        f"every worker reads")


def replicas():
    """The replicas in sync here: inside a train_step, those of its strategy; 1 on one device."""
    import tensorflow as tf
    context = tf.distribute.get_replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def replica_sum(value):
    """value summed over the replicas in sync (inside a train_step; itself on one device)."""
    import tensorflow as tf
    if replicas() == 1:
        return value
    return tf.distribute.get_replica_context().all_reduce("SUM", value)


def replica_share(value):
    """This replica's share of a mean over the global batch: its own mean divided by the
    replicas, so that the optimizer's sum of the replicas' gradients is the gradient of the
    global mean (the sub-batches are equal: the datasets drop incomplete batches)."""
    count = replicas()
    return value if count == 1 else value * (1.0 / count)


def fit_under(strategy, model, example):
    """Let Keras's fit, evaluate and predict run model under strategy as they do on one device.
    Two steps of Keras 3 (3.15) are replaced, for distributed runs only:

    - Before the first step under a strategy, Keras builds the model's losses and metrics from
      the first batch, which it takes from the training iterator (that batch is never trained
      on: the run would not see the batches one device sees) and reduces over the replicas with
      strategy.reduce("MEAN", batch), which MultiWorkerMirroredStrategy refuses for the nested
      (inputs, target, weight) of a batch (keras-team/keras issue 20585, "Does Keras 3 work
      with MultiWorkerMirroredStrategy?", open). Building needs only shapes and types: this
      model builds from example, a batch of validation data, and takes nothing from the
      training data.
    - After each step under MultiWorkerMirroredStrategy Keras averages the metrics over the
      replicas with reduce(..., axis=0), which fails on a scalar; a scalar is averaged as it is
      (axis=None)."""
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer
    if strategy is tf.distribute.get_strategy():  # the default: one device, nothing to do
        return model

    def build_from_example(iterator=None, data_batch=None):
        with strategy.scope():
            model._symbolic_build(data_batch=example)
    model._maybe_symbolic_build = build_from_example

    if worker_count(strategy) > 1 and not getattr(trainer.reduce_per_replica, "scalars", False):
        from keras import tree
        keras_reduce = trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if reduction not in ("auto", "mean") or worker_count(strategy) == 1:
                return keras_reduce(values, strategy, reduction)

            def reduce(value):
                if value.shape.rank == 0:
                    return strategy.reduce("MEAN", value, axis=None)
                return keras_reduce(value, strategy, reduction)
            return tree.map_structure(reduce, values)
        reduce_per_replica.scalars = True
        trainer.reduce_per_replica = reduce_per_replica
    return model
