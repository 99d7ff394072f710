"""Mutation score of each core module against the tests that exercise it (mutmut 3); JSON lines.

Run from the repository root (``make mutation`` runs it with every module, all mutants):

    .venv-test/bin/python bench/mutation.py [--module models/suggestions/lifecycle.py ...]
        [--sample N] [--seed S]

The modules and their tests are ``[tool.minsheng.mutation.modules]`` in pyproject.toml; the mutmut
settings they share are ``[tool.mutmut]``. Each module runs in its own scratch folder,
``mutants/<module>/``, which links the source packages and tests of this checkout and holds a
pyproject.toml with that module as mutmut's only target and its tests as the only tests; mutmut
copies all that into ``mutants/<module>/mutants/`` and runs every mutant against the tests that
reach the mutated function. ``--sample N`` tests a random N of each module's mutants (``--seed``
picks which) for a quicker, rougher figure. mutmut's own output goes to ``mutants/<module>/mutmut.log``.

Prints one line per module:
``{"module","killed","survived","timeout","no_tests","suspicious","mutants","tested","score"}``;
``score`` is (killed + timeout) / tested, where a mutant no selected test reaches (``no_tests``)
counts against it like a survivor. ``mutmut results`` and ``mutmut show NAME`` in a module's scratch
folder list and show its survivors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCRATCH = REPO / "mutants"
# mutmut's exit codes per mutant (mutmut/stats.py), folded into the figures printed here: "killed"
# is a failing test, pytest breaking, the type check catching it or the run crashing; anything not
# listed is "suspicious".
OUTCOME: dict[int | None, str] = {
    **dict.fromkeys((1, 3, 37, -9, -11), "killed"),
    **dict.fromkeys((36, 24, -24, 152, 255), "timeout"),
    0: "survived",
    **dict.fromkeys((5, 33), "no_tests"),
    34: "skipped",
}
# pytest 9 dropped ``Item._nodeid``, which mutmut 3.8 reads when it maps tests to the functions they
# reach; this plugin, loaded into mutmut's pytest runs, puts it back.
COMPAT_PLUGIN = "mutmut_pytest9_compat"
COMPAT_SOURCE = """\"\"\"pytest 9 items get the ``_nodeid`` mutmut 3.8 reads (from bench/mutation.py).\"\"\"


def pytest_collection_modifyitems(items):
    for item in items:
        item._nodeid = item.nodeid
"""


def load_config() -> tuple[dict[str, Any], dict[str, list[str]], dict[str, Any]]:
    """The shared [tool.mutmut] settings, the modules with their tests, and pytest's settings."""
    tool = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    return tool["mutmut"], tool["minsheng"]["mutation"]["modules"], tool["pytest"]["ini_options"]


def _toml_value(value: Any) -> str:
    """A TOML value for the flat settings written here (strings, numbers, booleans, lists of them)."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # JSON strings, numbers and booleans are valid TOML


def _toml_table(name: str, values: dict[str, Any]) -> str:
    return f"[{name}]\n" + "".join(f"{key} = {_toml_value(v)}\n" for key, v in values.items())


def prepare(module: str, tests: list[str], shared: dict[str, Any], pytest_ini: dict[str, Any]) -> Path:
    """The module's scratch folder: links to the sources and tests, and its own mutmut settings."""
    workdir = SCRATCH / module.removesuffix(".py").replace("/", ".")
    workdir.mkdir(parents=True, exist_ok=True)
    for name in [*shared["source_paths"], "tests"]:
        link = workdir / name
        if not link.is_symlink():
            link.symlink_to(REPO / name, target_is_directory=True)
    (workdir / f"{COMPAT_PLUGIN}.py").write_text(COMPAT_SOURCE, encoding="utf-8")
    settings = {
        **shared,
        "only_mutate": [module],
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": [*shared.get("pytest_add_cli_args", []), "-p", COMPAT_PLUGIN],
        "also_copy": [*shared.get("also_copy", []), f"{COMPAT_PLUGIN}.py"],
    }
    text = _toml_table("tool.mutmut", settings) + "\n" + _toml_table("tool.pytest.ini_options", pytest_ini)
    (workdir / "pyproject.toml").write_text(text, encoding="utf-8")
    # A fresh copy each time: results of earlier sources, tests or settings must not carry over.
    shutil.rmtree(workdir / "mutants", ignore_errors=True)
    (workdir / "mutmut.log").unlink(missing_ok=True)
    return workdir


def _mutmut(workdir: Path, args: Sequence[str], log: Path) -> None:
    """Run the mutmut command line in ``workdir``, appending its output to ``log``."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ mutmut {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(
            [str(VENV_BIN / "mutmut"), *args], cwd=workdir, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"mutmut {args[0]} failed in {workdir} (exit {done.returncode}); see {log}")


def _generate(workdir: Path, log: Path) -> None:
    """Write the mutants without running any test (mutmut's first step of ``run``)."""
    script = (
        "from mutmut.__main__ import create_mutants\n"
        "from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths\n"
        "copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(1)\n"
    )
    with log.open("a", encoding="utf-8") as out:
        subprocess.run(
            [sys.executable, "-c", script], cwd=workdir, stdout=out, stderr=subprocess.STDOUT, check=True
        )


def _exit_codes(workdir: Path, module: str) -> dict[str, int | None]:
    meta = json.loads((workdir / "mutants" / f"{module}.meta").read_text(encoding="utf-8"))
    codes: dict[str, int | None] = meta["exit_code_by_key"]
    return codes


def measure(module: str, workdir: Path, sample: int | None, seed: int, max_children: int) -> dict[str, Any]:
    """Run mutmut on one module (all mutants, or a sample) and fold its results into the figures."""
    log = workdir / "mutmut.log"
    _generate(workdir, log)
    names = sorted(_exit_codes(workdir, module))
    chosen = (
        names if sample is None or sample >= len(names) else sorted(random.Random(seed).sample(names, sample))
    )
    _mutmut(workdir, ["run", "--max-children", str(max_children), *([] if chosen is names else chosen)], log)
    codes = _exit_codes(workdir, module)
    counts: Counter[str] = Counter()
    for name in chosen:
        kind = OUTCOME.get(codes[name], "suspicious")
        counts[kind] += 1
    tested = len(chosen) - counts["skipped"]
    detected = counts["killed"] + counts["timeout"]
    return {
        "module": module,
        "killed": counts["killed"],
        "survived": counts["survived"],
        "timeout": counts["timeout"],
        "no_tests": counts["no_tests"],
        "suspicious": counts["suspicious"],
        "mutants": len(names),
        "tested": tested,
        "score": round(detected / tested, 4) if tested else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    shared, modules, pytest_ini = load_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=sorted(modules), help="only these (repeatable)")
    parser.add_argument("--sample", type=int, help="test a random N mutants of each module")
    parser.add_argument("--seed", type=int, default=0, help="which mutants --sample picks")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2, help="mutants run at once")
    parser.add_argument(
        "--timeout-constant",
        type=float,
        help="seconds added to each mutant's time limit (default: pyproject)",
    )
    args = parser.parse_args(argv)
    if args.timeout_constant is not None:
        shared = {**shared, "timeout_constant": args.timeout_constant}
    if args.sample is not None and args.sample < 1:
        parser.error("--sample must be at least 1")
    for module in args.module or list(modules):
        workdir = prepare(module, modules[module], shared, pytest_ini)
        result = measure(module, workdir, args.sample, args.seed, args.max_children)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
