"""The graph of the apps in docs/architecture.md is the one the code makes."""

import re
from pathlib import Path

import grimp

APPS = ["core", "coupons", "shop", "orders", "payments", "reports", "backoffice"]
DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _app(module: str) -> str | None:
    parts = module.split(".")
    if "tests" in parts or "migrations" in parts:
        return None  # the graph is of the application code
    return parts[0]


def code_edges() -> set[tuple[str, str]]:
    graph = grimp.build_graph(*APPS)
    edges = set()
    for module in graph.modules:
        importer = _app(module)
        if importer is None:
            continue
        for imported_module in graph.find_modules_directly_imported_by(module):
            imported = _app(imported_module)
            if imported is not None and imported != importer:
                edges.add((importer, imported))
    return edges


def documented_edges() -> set[tuple[str, str]]:
    block = DOC.read_text().split("```mermaid", 1)[1].split("```", 1)[0]
    return set(re.findall(r"^\s*(\w+) --> (\w+)\s*$", block, flags=re.MULTILINE))


def test_the_documented_graph_of_the_apps_is_the_one_the_code_makes():
    assert documented_edges() == code_edges()


def test_every_arrow_points_down_the_floors():
    floor = {app: height for height, app in enumerate(APPS)}
    upward = {(a, b) for a, b in code_edges() if floor[a] <= floor[b]}
    assert upward == set()
