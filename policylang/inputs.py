"""Reading user input files (facts JSON) with errors that name the place.

Input: a path or `-`. Output: the parsed value, or an `InputError` whose
message gives the file, line and column and what is wrong. JSON numbers
are read as `Decimal`, never float, so money stays exact.
Must not: print or exit.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any


class InputError(Exception):
    """Bad user input (exit 1): malformed JSON, wrong shape."""


def read_text(path: str) -> str:
    """The text of a file, or standard input for `-` (OSError is an I/O error, exit 2)."""
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")


def parse_json_object(text: str, name: str,
                      expected: str = 'a JSON object of facts such as {"overdue": 7}'
                      ) -> dict[str, Any]:
    """A JSON object from text; numbers as Decimal. `expected` says what the file
    should hold, for the error when it holds something else."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(f"{name}:{error.lineno}:{error.colno}: not valid JSON: "
                         f"{error.msg.lower()}") from None
    except RecursionError:
        raise InputError(f"{name}: the JSON is nested too deeply to be read") from None
    if not isinstance(value, dict):
        raise InputError(f"{name}: expected {expected}, found {type(value).__name__}")
    return value
