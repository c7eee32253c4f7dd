"""Layer contracts of the package, read from the source (every import, including those inside
functions and under TYPE_CHECKING):

- data flows one way: a module imports only from its own layer or an earlier one
  (base -> io -> registry -> clinical -> stats -> report -> study/demo/federated -> cli/web);
- ``stats`` (pure numerics) imports only numpy, scipy, the standard library, its own modules,
  ``rtoutcomes.errors`` and ``rtoutcomes.tabular_result``; pandas only lazily (inside a
  function or for type checking), for the ``to_frame`` views;
- ``report`` reads results only: of rtoutcomes, only ``report``, ``results``, ``errors``, the
  package's ``__version__`` and the output writer ``io.outputs``;
- ``results`` (the model of results.json) imports nothing else of rtoutcomes;
- no module imports another module's private name (``_name``), and no package imports another
  package's private module (``rtoutcomes.stats._cox``);
- every import of rtoutcomes names a module that exists;
- no import cycle between modules (imports inside functions count; imports for type checking
  only do not).

Negative controls at the end add a back-import and a cycle to a copy of the source and check
that both are reported.
"""

from __future__ import annotations

import ast
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS = {
    "": 0,
    "errors": 0,
    "results": 0,
    "tabular_result": 0,
    "data": 0,
    "forking": 0,
    "collector": 0,
    "io": 1,
    "registry": 2,
    "clinical": 3,
    "stats": 4,
    "report": 5,
    "study": 6,
    "demo": 6,
    "federated": 6,
    "plot": 6,
    "cli": 7,
    "web": 7,
    "__main__": 7,
}
STATS_THIRD_PARTY = {"numpy", "scipy"}
STATS_RTOUTCOMES = {"rtoutcomes.errors", "rtoutcomes.tabular_result"}
# report reads results only; it writes its files through io's staged, neutralising writer, and
# asks the base layer's one fork helper whether its figure workers may be forked, and pauses
# the cycle collector through the base layer's one way of doing it
REPORT_RTOUTCOMES = (
    "rtoutcomes.report",
    "rtoutcomes.results",
    "rtoutcomes.errors",
    "rtoutcomes.io.outputs",
    "rtoutcomes.forking",
    "rtoutcomes.collector",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (``from a.b import c``: a.b.c when c is a module, else a.b)
    name: str | None  # the imported name of ``from ... import name``
    line: int
    where: str  # "module" (top level), "function" (inside one) or "typing" (TYPE_CHECKING)

    @property
    def lazy(self) -> bool:
        return self.where != "module"

    def __str__(self) -> str:
        what = self.target + (f" ({self.name})" if self.name else "")
        return f"{self.module}:{self.line} imports {what}"


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, where: str = "module"):  # type: ignore[no-untyped-def]
    for child in ast.iter_child_nodes(node):
        inner = where
        if isinstance(child, ast.If) and _is_type_checking(child):
            inner = "typing"
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and where == "module":
            inner = "function"
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, where
        yield from _walk(child, inner)


def read_imports(src: Path = SRC) -> tuple[set[str], list[Import]]:
    """Every module of the rtoutcomes package under ``src`` and every import they make."""
    paths = sorted((src / "rtoutcomes").rglob("*.py"))
    modules = {_module_name(p, src) for p in paths}
    found = []
    for path in paths:
        module = _module_name(path, src)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node, where in _walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [Import(module, a.name, None, node.lineno, where) for a in node.names]
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if sub in modules else base
                found.append(Import(module, target, alias.name, node.lineno, where))
    return modules, found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _ours(imp: Import) -> bool:
    return imp.target == "rtoutcomes" or imp.target.startswith("rtoutcomes.")


def layer_violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        if not _ours(imp):
            continue
        source, target = _layer(imp.module), _layer(imp.target)
        for layer in (source, target):
            if layer not in LAYERS:
                found.append(f"{imp}: package {layer!r} has no layer (add it to LAYERS)")
        if source in LAYERS and target in LAYERS and LAYERS[target] > LAYERS[source]:
            found.append(f"{imp}: against the data flow ({source} may not import {target})")
    return found


def stats_violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        if _layer(imp.module) != "stats":
            continue
        top = imp.target.split(".")[0]
        if _ours(imp):
            if _layer(imp.target) != "stats" and imp.target not in STATS_RTOUTCOMES:
                found.append(f"{imp}: stats imports only numpy, scipy and {STATS_RTOUTCOMES}")
        elif top == "pandas":
            if not imp.lazy:
                found.append(f"{imp}: pandas only inside functions (to_frame) in stats")
        elif top not in STATS_THIRD_PARTY and top not in sys.stdlib_module_names:
            found.append(f"{imp}: stats imports only numpy and scipy")
    return found


def report_violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        layer = _layer(imp.module)
        if layer == "report" and _ours(imp):
            version = imp.target == "rtoutcomes" and imp.name == "__version__"
            if not version and not imp.target.startswith(REPORT_RTOUTCOMES):
                found.append(f"{imp}: report reads results only ({', '.join(REPORT_RTOUTCOMES)})")
        if layer == "results" and _ours(imp) and _layer(imp.target) != "results":
            found.append(f"{imp}: the results model depends on nothing else of rtoutcomes")
    return found


def private_violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        if not _ours(imp):
            continue
        if imp.name and imp.name.startswith("_") and imp.name != "__version__":
            found.append(f"{imp}: a private name of another module")
        source, target = _layer(imp.module), _layer(imp.target)
        private = [p for p in imp.target.split(".")[2:] if p.startswith("_")]
        if source != target and private:
            found.append(f"{imp}: a private module of another package")
    return found


def cycles(modules: set[str], imports: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        if imp.target in modules and imp.target != imp.module:
            graph[imp.module].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _runtime_imports(imports: list[Import]) -> list[Import]:
    """The imports that run: imports for type checking only are no dependency, and a module
    importing its own package (whose __init__ re-exports it) is not a cycle."""
    return [i for i in imports if i.where != "typing" and i.target != i.module.rpartition(".")[0]]


def unresolved(modules: set[str], imports: list[Import]) -> list[str]:
    """Imports of rtoutcomes modules that do not exist (mypy's ignore_missing_imports would
    let them through; a moved module leaves them behind)."""
    return [f"{imp}: no such module" for imp in imports if _ours(imp) and imp.target not in modules]


def all_violations(src: Path = SRC) -> list[str]:
    modules, imports = read_imports(src)
    found = unresolved(modules, imports)
    found += layer_violations(imports) + stats_violations(imports)
    found += report_violations(imports) + private_violations(imports)
    runtime = _runtime_imports(imports)
    found += [f"import cycle: {' <-> '.join(c)}" for c in cycles(modules, runtime)]
    return found


def test_the_package_keeps_its_layer_contracts() -> None:
    assert all_violations() == []


def test_reads_imports_inside_functions_and_type_checking() -> None:
    _, imports = read_imports()
    lazy = [i for i in imports if i.lazy and i.module == "rtoutcomes.study.run"]
    assert any(i.target == "rtoutcomes.report.build" for i in lazy)
    assert len(read_imports()[0]) > 80


def _copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(
        SRC / "rtoutcomes", src / "rtoutcomes", ignore=shutil.ignore_patterns("__pycache__", "data")
    )
    return src


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_negative_control_a_back_import_fails(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    _append(
        src / "rtoutcomes" / "stats" / "_kaplan_meier.py",
        "\n\ndef _late() -> None:\n    from rtoutcomes.study.run import study_summary\n",
    )
    _append(
        src / "rtoutcomes" / "report" / "fmt.py",
        "\nfrom rtoutcomes.clinical.recist import assess_lesions\n",
    )
    _append(
        src / "rtoutcomes" / "clinical" / "ctcae.py",
        "\nfrom rtoutcomes.stats._validate import fail_rows\n",
    )
    _append(
        src / "rtoutcomes" / "stats" / "quantiles.py",
        "\nfrom rtoutcomes.stats._moved_away import TabularResult\n",
    )
    found = all_violations(src)
    assert any("stats.quantiles" in f and "no such module" in f for f in found)
    assert any("stats._kaplan_meier" in f and "against the data flow" in f for f in found)
    assert any("stats._kaplan_meier" in f and "stats imports only" in f for f in found)
    assert any("report.fmt" in f and "report reads results only" in f for f in found)
    assert any("clinical.ctcae" in f and "private module" in f for f in found)


def test_negative_control_a_cycle_fails(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    # rules imports cells; cells importing rules (even inside a function) closes a cycle
    _append(
        src / "rtoutcomes" / "registry" / "cells.py",
        "\n\ndef _rules() -> None:\n    from rtoutcomes.registry import rules\n",
    )
    found = all_violations(src)
    assert any(
        f.startswith("import cycle")
        and "rtoutcomes.registry.cells" in f
        and "rtoutcomes.registry.rules" in f
        for f in found
    ), found
