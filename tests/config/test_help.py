"""The help text read from docstrings: keras_dqn.config.help."""

from keras_dqn.config.help import argument_docs, plain


def _documented(alpha, beta, gamma):
    """Something.

    Args:
        alpha: the first, with ``code`` and a
            continuation line.
        beta, gamma: both of these (:class:`~keras_dqn.DQNAgent`, :func:`keras_dqn.train`).

    Returns:
        Nothing to read: the section ends here.
    """


def test_args_sections_are_read_entry_by_entry_and_lines_joined():
    assert argument_docs(_documented) == {
        "alpha": "the first, with code and a continuation line.",
        "beta": "both of these (DQNAgent, keras_dqn.train).",
        "gamma": "both of these (DQNAgent, keras_dqn.train).",
    }


def test_no_docstring_or_no_args_section_gives_nothing():
    def bare():
        pass

    def summary_only():
        """Just a summary line."""

    assert argument_docs(bare) == {} and argument_docs(summary_only) == {}


def test_markup_is_removed_as_a_terminal_shows_it():
    text = ":meth:`DQNAgent.replay` and :mod:`keras_dqn.exploration`"
    assert plain(text) == "DQNAgent.replay and keras_dqn.exploration"
    assert plain("``Q = V + A``") == "Q = V + A"
