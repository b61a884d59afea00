"""The README and the docs link only to files of the repository, and every one exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target), outside code spans
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
# a path of the repository written in a code span: `docs/x.md`, `conf/base/...`
PATH = re.compile(r"`((?:docs|conf|src|tests|benchmarks|notebooks|data)/[^`\s]+)`")
TOP_DIRS = ("docs", "conf", "src", "tests", "benchmarks", "notebooks", "data")


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.*)$", markdown, flags=re.MULTILINE):
        text = re.sub(r"[`*_]", "", heading.strip().lower())
        anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return LINK.findall(text)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_link_stays_in_the_repository_and_exists(doc):
    broken = []
    for target in _links(doc):
        where, _, anchor = target.partition("#")
        if re.match(r"^[a-z][a-z0-9+.-]*:", where) or where.startswith("//"):
            broken.append(f"{target}: leaves the repository")
            continue
        file = (doc.parent / where).resolve() if where else doc
        if PROJECT_ROOT not in (file, *file.parents):
            broken.append(f"{target}: leaves the repository")
        elif not file.exists():
            broken.append(f"{target}: no such file")
        elif (
            anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text())
        ):
            broken.append(f"{target}: no heading '{anchor}'")
    assert broken == [], f"{doc.name}: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_repository_paths_named_in_the_text_exist(doc):
    missing = []
    for named in PATH.findall(doc.read_text()):
        path = named.rstrip(".,:;)")
        if re.search(r"[<>*{}$]", path) or path.startswith("data/"):
            continue  # a pattern, or an output a run makes
        if "credentials" in path:
            continue  # a file that must not be there (what is kept out)
        if not (PROJECT_ROOT / path.split("::")[0]).exists():
            missing.append(path)
    assert missing == [], f"{doc.name} names paths that do not exist: {missing}"


def test_nothing_outside_the_repository_is_named():
    for doc in DOCS:
        assert "../shared" not in doc.read_text(), doc.name


def test_the_link_checker_catches_what_it_should(tmp_path):
    doc = PROJECT_ROOT / "docs" / "data_contract.md"
    assert "the-label" in _anchors(doc.read_text())
    assert _links(PROJECT_ROOT / "README.md")  # the README does link
