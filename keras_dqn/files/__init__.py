"""What keras_dqn writes and reads, none of it able to run code when opened.

* :mod:`~keras_dqn.files.atomic`: atomic writes (a file is whole or not there);
* :mod:`~keras_dqn.files.weights`: weights ``.h5`` files (arrays and a JSON config);
* :mod:`~keras_dqn.files.checkpoint`: ``checkpoint.npz``, everything a run needs to resume;
* :mod:`~keras_dqn.files.env_state`: the envs in progress as JSON, for exact resume;
* :mod:`~keras_dqn.files.runs`: run folders, their locks and what a new run may overwrite.
"""
