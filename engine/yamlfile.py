"""YAML for test files: line numbers on every mapping, exact decimals.

Input: YAML text. Output: plain Python values where each mapping is a
`LineDict` (a dict that knows its 1-based line) and every float scalar is a
`Decimal` read from its text, never a binary float.
Must not: interpret the content.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import yaml


class LineDict(dict[str, Any]):
    """A mapping from YAML that remembers the line it started on."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict(loader.construct_mapping(node, deep=True))
    result.line = node.start_mark.line + 1
    return result


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal | str:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text          # `.inf`, `.nan`: left as text for validation to refuse
    return value if value.is_finite() else text


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)


class YamlError(Exception):
    """Malformed YAML, with the line and column in the message."""


def load_yaml(text: str, name: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise YamlError(f"{where}: not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise YamlError(f"{name}: not valid YAML: {error}") from None
