"""Each setting's ``--help`` text, read from the docstring that documents it.

A setting is described once, in the ``Args:`` section a reader of the code meets: the agent
classes' (:class:`keras_dqn.DQNAgent` first, then the subclasses' own settings),
:func:`keras_dqn.train`'s, and :func:`keras_dqn.make_vector_env`'s ``n_envs``.  The command
line shows that text with its reStructuredText markup removed.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable

from keras_dqn.agents.loading import AGENT_CLASSES
from keras_dqn.envs.make import make_vector_env
from keras_dqn.training.loop import train

# "    name: text" or "    a, b, c: text" opens an entry of a Google-style Args section.
_ENTRY = re.compile(r"^(\w+(?:, \w+)*): (.*)$")
# :class:`~a.b.C` -> C, :func:`a.b` -> a.b, ``x`` -> x
_ROLE = re.compile(r":\w+:`~?([\w.]*\.)?([^`]+)`")


def plain(text: str) -> str:
    """``text`` without reStructuredText roles and literals: what a terminal shows."""
    text = _ROLE.sub(lambda m: m.group(2) if m.group(0).count("~") else (m.group(1) or "") + m.group(2), text)
    return text.replace("``", "")


def argument_docs(obj: Callable | type) -> dict[str, str]:
    """Each argument an object's Google-style ``Args:`` section documents, with its text on one line.

    Args:
        obj: a function or class with a docstring (``None`` or no ``Args:`` section: ``{}``).

    Returns:
        ``{name: text}``; an entry naming several arguments (``state_size, action_size: ...``)
        gives each the same text.
    """
    lines = (inspect.getdoc(obj) or "").splitlines()
    if "Args:" not in lines:
        return {}
    docs: dict[str, list[str]] = {}
    names: list[str] = []
    for line in lines[lines.index("Args:") + 1 :]:
        if line and not line.startswith(" "):  # the next section
            break
        entry = _ENTRY.match(line[4:]) if line.startswith("    ") and not line.startswith("     ") else None
        if entry:
            names = entry.group(1).split(", ")
            for name in names:
                docs[name] = [entry.group(2)]
        elif line.strip() and names:
            for name in names:
                docs[name].append(line.strip())
    return {name: plain(" ".join(words)) for name, words in docs.items()}


def _base_first(classes: Iterable[type]) -> list[type]:
    """The classes and their bases, each once, every class after its bases."""
    ordered: list[type] = []
    for cls in classes:
        for base in reversed(cls.__mro__):
            if base not in ordered and base is not object:
                ordered.append(base)
    return ordered


def setting_help() -> dict[str, str]:
    """The help text of every agent and train setting, by name.

    An agent setting's text is that of the first class to document it, bases first: a
    subclass that only changes a default (``gamma, ...: as TargetDQNAgent, with Atari
    defaults``) does not replace its meaning, which ``--help`` shows beside the default.
    The closing full stop is left off, as argparse then adds ``(default: ...)``.
    """
    help_text: dict[str, str] = {}
    for source in [*_base_first(AGENT_CLASSES.values()), train, make_vector_env]:
        for name, text in argument_docs(source).items():
            help_text.setdefault(name, text.removesuffix("."))
    return help_text


SETTING_HELP: dict[str, str] = setting_help()
"""The ``--help`` text of every agent and :func:`keras_dqn.train` setting (and ``n_envs``), by name."""
