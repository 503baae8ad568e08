"""Pretrained weights shipped with keras_dqn (installed as the ``keras_dqn.pretrained`` package).

Find a file with ``keras_dqn.weights_path("cartpole-dqn")``.
"""
