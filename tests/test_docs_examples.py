"""The Python examples of the engine's docs run as written.

Every ```python block of docs/embedding.md (and docs/semantics.md) is
executed, from the repository root, in the order of the page and in one
namespace per page, like a reader typing them into one session. A failing
block is reported at its own line of the page. The code run here is our
own documentation, never policy text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["docs/embedding.md", "docs/semantics.md"]
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(page: str) -> list[tuple[int, str]]:
    """(first line of the code in the page, code) for every python block."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1))
            for match in FENCE.finditer(text)]


@pytest.mark.parametrize("page", PAGES)
def test_every_python_example_runs(page: str, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    blocks = python_blocks(page)
    assert blocks, f"{page} has no python example"
    namespace: dict[str, Any] = {"__name__": f"docs_example_{Path(page).stem}"}
    for line, code in blocks:
        # Pad with blank lines so a traceback points at the page's own line.
        program = compile("\n" * (line - 1) + code, page, "exec")
        exec(program, namespace)  # noqa: S102 - our own documentation's examples
    capsys.readouterr()


def test_the_embedding_page_covers_the_contract_api() -> None:
    code = "\n".join(block for _, block in python_blocks("docs/embedding.md"))
    for name in ("load_policy", "PolicyError", "evaluate(", "evaluate_many(", "to_json()",
                 "FactsError", "params=", "explain("):
        assert name in code, f"docs/embedding.md has no example using {name}"
