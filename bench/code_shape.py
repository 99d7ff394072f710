"""The shape of the code as the next engineer meets it: the largest modules and the long functions.

    .venv-test/bin/python bench/code_shape.py [ROOT]

Prints one JSON line per package (api, intake, classify, models): its largest module (lines) and
its functions longer than 60 lines, then a total line. Issue 20 reports these before and after.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

PACKAGES = ("api", "intake", "classify", "models")
LONG = 60


def _functions(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            found.append((node.name, node.end_lineno - node.lineno + 1))
    return found


def shape(root: Path) -> list[dict[str, object]]:
    """One row per package and a total row."""
    rows: list[dict[str, object]] = []
    total_long: list[str] = []
    largest_overall = ("", 0)
    for package in PACKAGES:
        files = [p for p in sorted((root / package).rglob("*.py")) if "migrations" not in p.parts]
        largest = ("", 0)
        long: list[str] = []
        for path in files:
            text = path.read_text(encoding="utf-8")
            lines = text.count("\n")
            rel = str(path.relative_to(root))
            largest = max(largest, (rel, lines), key=lambda x: x[1])
            long += [f"{rel}:{name} ({n})" for name, n in _functions(ast.parse(text)) if n > LONG]
        rows.append({"package": package, "modules": len(files), "largest": largest[0],
                     "largest_lines": largest[1], "functions_over_60": len(long), "long": long})  # fmt: skip
        total_long += long
        largest_overall = max(largest_overall, largest, key=lambda x: x[1])
    rows.append({"package": "all", "largest": largest_overall[0], "largest_lines": largest_overall[1],
                 "functions_over_60": len(total_long)})  # fmt: skip
    return rows


if __name__ == "__main__":
    for row in shape(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent):
        print(json.dumps(row, ensure_ascii=False))
