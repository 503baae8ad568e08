"""Every private TensorFlow, Keras and gymnasium internal keras_dqn relies on, one module per
library, each use commented with why; ``tests/test_internals.py`` fails with one clear message
if an upgrade moves one."""
