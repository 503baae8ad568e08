"""MkDocs hook: tidy the Sphinx cross-reference roles that keras_dqn's docstrings use.

The docstrings are Google style, with Sphinx roles for cross-references
(``:class:`keras_dqn.TargetDQNAgent```, ``:func:`~keras_dqn.train```).  mkdocstrings renders
them as the role's name followed by inline code; this drops the role and Sphinx's ``~``
("show the last part only", done here too), leaving the inline code.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj):<code>(~?)([^<]*)</code>")


def _code(match: re.Match) -> str:
    tilde, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html: str, page, config, files) -> str:
    return _ROLE.sub(_code, html)
