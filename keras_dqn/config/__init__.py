"""Settings: what each may be, the named recipes that hold validated values, and how the
command line and config files set them.

* :mod:`~keras_dqn.config.settings`: each setting's check, type and help text; ``--config`` files;
* :mod:`~keras_dqn.config.recipe`: :class:`Recipe`, an agent class with its settings;
* :mod:`~keras_dqn.config.recipes`: the named recipes (``cartpole-target``, ``pong``...);
* :mod:`~keras_dqn.config.spaces`: sweeps' search spaces;
* :mod:`~keras_dqn.config.flags`: command-line flags for a recipe's settings.
"""
