"""The optimizer every model here trains with: Keras's Adam, with its clipping made right for
several replicas (utils/distribute.py)."""
import keras

from utils.distribute import replicas


@keras.saving.register_keras_serializable(package="paintings")
class Adam(keras.optimizers.Adam):
    """Keras's Adam, except that with several replicas its clipping (global_clipnorm) applies to
    the gradient summed over the replicas, as on one device.

    Keras 3 clips each replica's share of the gradient before the replicas' shares are summed
    (base_optimizer.apply clips, then the TensorFlow backend's _backend_update_step all-reduces),
    so on N replicas each share is held to the norm alone and a clipped step is not the step one
    device takes on the same global batch (the same known problem as TensorFlow issue 33929).
    Here the clip waits for the sum. On one device nothing changes. (The private names it
    replaces are checked when a run starts: utils/distribute.py's PRIVATE_API.)"""

    def _clip_gradients(self, grads):
        return grads if replicas() > 1 else super()._clip_gradients(grads)

    def _all_reduce_sum_gradients(self, grads_and_vars):
        summed = super()._all_reduce_sum_gradients(grads_and_vars)
        if replicas() == 1:
            return summed
        clipped = super()._clip_gradients([g for g, _ in summed])
        return list(zip(clipped, [v for _, v in summed]))
