"""The few helpers every part of the project shares: errors, the command line, images and their
samples, masks, metrics, plots and tf.distribute's pieces. Nothing here imports the models or the
applications above it, and importing it changes nothing (utils/env.py is for entry points)."""
