"""Command-line flags for a recipe's settings (``keras-dqn train --learning-rate 3e-4``...):
each setting's flag, type and help text from the settings spec (:mod:`keras_dqn.config.settings`).
"""

from __future__ import annotations

import argparse
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from keras_dqn.agents.settings import LOSSES, PRECISIONS, agent_hints
from keras_dqn.checks import check_names, is_union
from keras_dqn.config.help import SETTING_HELP
from keras_dqn.config.recipe import Recipe
from keras_dqn.config.settings import train_hints

# ---------------------------------------------------------------- command-line flags for a recipe's settings
_FLAG_CHOICES = {"loss": sorted(LOSSES), "precision": list(PRECISIONS)}


def _named(name: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    parse.__name__ = name  # argparse's "invalid NAME value: 'x'"
    return parse


def _int_or_float(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _flag_type(hint: Any) -> Callable[[str], Any]:
    """How a flag's text becomes a value of the annotated type ``hint``."""
    if is_union(hint):
        members = set(typing.get_args(hint)) - {type(None)}
        if members == {int, float}:  # target_update: 500 is an int, 0.005 a float
            parse = _named("int-or-float", _int_or_float)
        else:
            parse = _flag_type(members.pop()) if len(members) == 1 else str
        if type(None) not in typing.get_args(hint):
            return parse
        return _named(f"{parse.__name__}-or-none", lambda text: None if text.lower() == "none" else parse(text))
    origin = typing.get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Sequence):  # hidden: "64,64"
        item = _flag_type((typing.get_args(hint) or (str,))[0])
        return _named(f"comma-separated-{item.__name__}s", lambda text: tuple(item(part) for part in text.split(",")))
    return hint if hint in (int, float, str) else str


def add_recipe_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    recipe: Recipe,
    *,
    only: Sequence[str] | None = None,
    help: Mapping[str, str] | None = None,
) -> None:
    """Add a flag ``--NAME`` for each of ``recipe``'s settings, defaulting to the recipe's value.

    One home for the flags of every example and command that trains a recipe: the help of each
    comes from :data:`SETTING_HELP`, the value's type from the agent's or :func:`keras_dqn.train`'s
    annotation: ``--double``/``--no-double`` for a bool, ``--hidden 64,64``, ``--clipnorm none``,
    ``--target-update 500`` (an int: hard copies) or ``0.005`` (a float: soft updates), ``--loss``
    one of the losses.  :func:`recipe_settings` reads the values back.

    Args:
        parser: an ``ArgumentParser`` or one of its argument groups.
        recipe: the recipe whose settings become flags (its ``agent_settings``, the class's
            defaults included, and its ``train_kwargs``), each defaulting to the recipe's value.
        only: the settings to add, in this order (default: all of them, the agent's first).
        help: help text that replaces :data:`SETTING_HELP`'s for some settings, e.g. an
            example's own explanation.

    Raises:
        ValueError: a name in ``only`` or ``help`` that is not one of the recipe's settings.
    """
    settings = {**recipe.agent_settings, **recipe.train_kwargs}
    names = list(settings) if only is None else list(only)
    check_names(f"recipe {recipe.name}'s", {**dict.fromkeys(names), **(help or {})}, set(settings))
    hints = {**train_hints(), **agent_hints(recipe.agent_class)}
    for name in names:
        default = settings[name]
        flag = "--" + name.replace("_", "-")
        text = (help or {}).get(name, SETTING_HELP.get(name))
        hint = hints.get(name, type(default))
        if hint is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        else:
            parser.add_argument(flag, type=_flag_type(hint), choices=_FLAG_CHOICES.get(name), default=default,
                                help=text)  # fmt: skip


def recipe_settings(args: argparse.Namespace, recipe: Recipe) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values of the flags :func:`add_recipe_flags` added for ``recipe``, to pass on.

    Args:
        args: the parsed flags.
        recipe: the recipe whose flags were added.

    Returns:
        ``(agent_kwargs, train_kwargs)``: each of the recipe's settings that has a flag in
        ``args``, with the flag's value (settings added with ``only=`` left out are not there:
        ``recipe.make_agent(..., **agent_kwargs)`` and ``recipe.train_args(**train_kwargs)``
        take the recipe's own for them).
    """

    def given(settings: Mapping[str, Any]) -> dict[str, Any]:
        return {name: getattr(args, name) for name in settings if hasattr(args, name)}

    return given(recipe.agent_settings), given(recipe.train_kwargs)
