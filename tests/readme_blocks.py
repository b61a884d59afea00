"""The README's output blocks, as tests compare them with fresh output."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"


def _blocks() -> list[tuple[str, str]]:
    """(language, body) of every fenced block of the README, in order."""
    return re.findall(r"```(\w*)\n(.*?)```", README.read_text(), flags=re.DOTALL)


def block_starting(prefix: str) -> str:
    """The body of the README block whose first line starts with ``prefix``."""
    found = [body for _, body in _blocks() if body.startswith(prefix)]
    assert len(found) == 1, f"{len(found)} README blocks start with {prefix!r}"
    return found[0].rstrip("\n")


def answer_after(marker: str) -> Any:
    """The JSON block that follows the README block mentioning ``marker``."""
    blocks = _blocks()
    for i, (_, body) in enumerate(blocks):
        if marker in body:
            language, answer = next(b for b in blocks[i + 1 :] if b[0] == "json")
            return json.loads(answer)
    raise AssertionError(f"no README block mentions {marker!r}")


def normalized(text: str) -> str:
    """Output with what differs between two equal runs made alike: timings and run ids."""
    text = re.sub(r"\bin \d+(\.\d+)? s\b", "in N s", text)
    return re.sub(r"\b[0-9a-f]{32}\b", "RUN_ID", text)
