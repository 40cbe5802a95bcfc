"""Structure figures for flashcore: files over 500 lines, functions over 60 lines, SQL statements
outside storage/, import cycles.

    python -m tools.measure_structure [--list]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flashcore"
SQL_CALLS = frozenset({"select", "insert", "update", "delete", "text", "exists", "union_all"})
SQL_STRING_STARTS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "PRAGMA ",
                     "WITH ", "REPLACE ", "VACUUM", "ATTACH ", "ALTER ")  # fmt: skip


# Statements on Anki's own SQLite files (the .apkg written, the package read): a file format,
# not flashcore's database.
ANKI_FILES = (
    "flashcore/exporters/anki/",
    "flashcore/importers/anki_package/",
    "flashcore/importers/anki_scheduling.py",
    "flashcore/importers/anki_revlog_sql.py",
)


def product_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_bundled" not in p.parts)


def long_files(limit: int = 500) -> list[tuple[str, int]]:
    out = []
    for path in product_files():
        lines = len(path.read_text().splitlines())
        if lines > limit:
            out.append((str(path.relative_to(ROOT)), lines))
    return sorted(out, key=lambda x: -x[1])


def long_functions(limit: int = 60) -> list[tuple[str, int]]:
    out = []
    for path in product_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    out.append((f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", length))
    return sorted(out, key=lambda x: -x[1])


def sql_statements_outside_storage() -> list[str]:
    """Calls of select/insert/update/delete/text/exists (SQLAlchemy's statement builders) and
    string literals that start like SQL (upper-case keyword), in product modules outside
    flashcore/storage/. Statements on Anki's own files (ANKI_FILES) are not counted."""
    out = []
    for path in product_files():
        rel = path.relative_to(ROOT)
        if rel.parts[1] == "storage" or str(rel).startswith(ANKI_FILES):
            continue
        tree = ast.parse(path.read_text())
        sqlalchemy_names = _sqlalchemy_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _call_name(node.func)
                if name in SQL_CALLS and name in sqlalchemy_names:
                    out.append(f"{rel}:{node.lineno} {name}()")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lstrip()
                if text.startswith(SQL_STRING_STARTS) and len(text.split()) > 2:
                    out.append(f"{rel}:{node.lineno} '{node.value.strip()[:40]}'")
    return out


def _sqlalchemy_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy"):
                    names.update(SQL_CALLS)  # sa.select(...) style
    return names


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of flashcore modules (each a cycle), imports anywhere in a
    module counted (function-level imports included, as grimp sees them)."""
    import grimp

    if str(ROOT) not in sys.path:  # this checkout's flashcore, whatever is installed
        sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("flashcore")
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    return strongly_connected(edges)


def strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; only the groups of two or more modules (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = [s for s in edges.get(node, []) if s in edges]
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                if len(group) > 1 or node in edges.get(node, []):
                    groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.measure_structure",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--list", action="store_true", help="list every finding, not only counts")
    args = parser.parse_args(argv)
    files, functions = long_files(), long_functions()
    sql, cycles = sql_statements_outside_storage(), import_cycles()
    print(f"files over 500 lines: {len(files)}")
    if args.list:
        for name, n in files:
            print(f"  {n:5d} {name}")
    print(f"functions over 60 lines: {len(functions)}")
    if args.list:
        for name, n in functions:
            print(f"  {n:5d} {name}")
    print(f"SQL statements outside storage/: {len(sql)}")
    if args.list:
        for line in sql:
            print(f"  {line}")
    print(f"import cycles (groups of modules importing each other): {len(cycles)}")
    for group in cycles:
        print("  " + " <-> ".join(group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
