"""``python -m keras_dqn``: the ``keras-dqn`` command, for an environment without its script on PATH."""

from keras_dqn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
