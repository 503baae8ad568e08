"""MkDocs hook: write the ``--help`` of every ``keras-dqn`` command into the CLI reference page.

The page holds a marker, ``<!-- keras-dqn-help -->``; at build time this hook replaces it with
what ``keras-dqn --help`` and ``keras-dqn COMMAND --help`` print, asked in-process of the
command's own entry point (``keras_dqn.cli.main``), so the page never goes stale.
"""

from __future__ import annotations

import contextlib
import io
import os
import re

MARKER = "<!-- keras-dqn-help -->"
WIDTH = "100"  # argparse wraps help to $COLUMNS: a fixed width makes the page the same everywhere

_cache: str | None = None


def _help(*argv: str) -> str:
    """What ``keras-dqn ARGV --help`` prints."""
    from keras_dqn.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([*argv, "--help"])
    return out.getvalue()


def _help_markdown() -> str:
    global _cache
    if _cache is None:
        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = WIDTH
        try:
            top = _help()
            commands = re.search(r"\{([\w,-]+)\}", top).group(1).split(",")  # usage: keras-dqn [-h] {train,...}
            helps = [("keras-dqn", top), *((f"keras-dqn {name}", _help(name)) for name in commands)]
        finally:
            if previous is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = previous
        _cache = "\n".join(f"## `{command}`\n\n```text\n$ {command} --help\n{text.rstrip()}\n```\n"
                           for command, text in helps)  # fmt: skip
    return _cache


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, _help_markdown())
