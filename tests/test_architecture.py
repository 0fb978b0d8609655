"""The house's rules that imports and SQL can break (STYLE habits 13 and 14), read from the code.

- The import graph: every module's imports (ast, function-level ones too) against the arrows
  habit 13 allows.
- One owner per table: no SQL string in a domain names a table another domain owns (a table
  is owned by the Piccolo app whose migrations create it; the kernel's tables may be read by
  any domain, and are written only by the kernel's functions).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("vendors", "planning", "procurement", "contracts", "evaluation")
PACKAGES = ("govbuy", *DOMAINS)

# The kernel's pure helpers a rules module may use.
PURE_KERNEL = {"govbuy.rules", "govbuy.uscc", "govbuy.holidays"}
# The kernel's helpers a controller may use (beyond its own service and schemas).
CONTROLLER_KERNEL = {"govbuy.auth", "govbuy.http", "govbuy.pagination", "govbuy.errors", "govbuy.settings"}
# The top layer: imports the domains, and nothing of the project imports it but the top itself.
TOP = ("govbuy.app", "govbuy.cli", "govbuy.worker", "govbuy.prerender", "govbuy.public", "govbuy.reconcile", "govbuy.demo", "govbuy.seed")
# Only these wire controllers and commands.
WIRING = {"govbuy.app", "govbuy.cli"}

# Deliberate exceptions, each with its reason: (importer, imported).
CALL_TIME_SERVICE_IMPORTS = {
    # The credit rating's facts are other domains' (milestones on time, terminations for
    # cause, accepted evaluations), joined through their services' subqueries; both services
    # call the recompute, so they sit above vendors and are imported when a rating is computed.
    ("vendors.service", "contracts.service"): "credit-rating facts: milestones and terminations",
    ("vendors.service", "evaluation.service"): "credit-rating facts: accepted evaluations",
    # Evaluation commissions and accepts against contracts (it imports contracts' service);
    # a contract's reads show its milestones' current evaluations and a payment is checked
    # against one, so contracts asks evaluation's service when it runs.
    ("contracts.service", "evaluation.service"): "milestone reads and payments: the current evaluation",
}


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    top_level: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "piccolo_migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (a name imported from a package is its module)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> Iterator[Import]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                yield Import(target, node.lineno, id(node) in top)


def _domain(module: str) -> str | None:
    head = module.split(".")[0]
    return head if head in DOMAINS else None


def _kind(module: str) -> str:
    """What a module is: rules, tables, service, controllers, cli, ... (a package's modules
    take the package's kind: `procurement.service.bids` is service)."""
    parts = module.split(".")
    if _domain(module) is None:
        return "kernel"
    if len(parts) == 1:
        return "package"
    kind = parts[1]
    if kind == "rating":
        return "rules"  # the credit rating is rules (habit 1)
    if kind == "report_controllers":
        return "controllers"
    return kind


def _is_top(module: str) -> bool:
    return any(module == top or module.startswith(top + ".") for top in TOP)


def _violations() -> list[str]:
    found = []
    for module in sorted(MODULES):
        kind, domain = _kind(module), _domain(module)
        for imp in _imports(module):
            target, tkind, tdomain = imp.module, _kind(imp.module), _domain(imp.module)
            where = f"{module}:{imp.line} imports {target}"
            if target.rpartition(".")[2] in ("controllers", "report_controllers", "cli") and module not in WIRING:
                found.append(f"{where}: only the app factory and the CLI import controllers and commands")
            if target == "govbuy.cli" and domain is not None:
                found.append(f"{where}: no domain imports the CLI")
            if kind == "rules" and not (tkind == "rules" or target in PURE_KERNEL):
                found.append(f"{where}: rules import only rules and the kernel's pure helpers")
            if kind == "tables" and tkind != "tables" and target != "govbuy.tables":
                found.append(f"{where}: tables import only tables")
            if kind == "service" and tdomain not in (None, domain) and tkind in ("tables", "rules", "controllers"):
                found.append(f"{where}: a service asks another domain's service, never its {tkind}")
            if kind == "controllers":
                own = tdomain == domain and tkind in ("service", "schemas", "reports", "errors")
                if not own and target not in CONTROLLER_KERNEL:
                    found.append(f"{where}: a controller uses its own service and schemas and the kernel's helpers")
            if domain is None and not _is_top(module) and tdomain is not None:
                found.append(f"{where}: the kernel imports no domain")
            if domain is not None and _is_top(target):
                found.append(f"{where}: no domain imports the top layer")
    return found


def test_imports_follow_the_allowed_arrows() -> None:
    found = _violations()
    assert found == [], "\n".join(found)


def test_services_import_each_other_one_way() -> None:
    """Module-level imports between services form no cycle; a service that sits below another
    asks it only at call time, and only where listed in CALL_TIME_SERVICE_IMPORTS."""
    services = {m for m in MODULES if _kind(m) == "service"}
    graph: dict[str, set[str]] = {_service_of(m): set() for m in services}
    unlisted = []
    for module in services:
        for imp in _imports(module):
            if imp.module in services and _domain(imp.module) != _domain(module):
                edge = (_service_of(module), _service_of(imp.module))
                if imp.top_level:
                    graph[edge[0]].add(edge[1])
                elif edge not in CALL_TIME_SERVICE_IMPORTS:
                    unlisted.append(f"{module}:{imp.line} imports {imp.module} at call time")
    assert unlisted == [], "\n".join(unlisted)
    assert _cycles(graph) == [], "services that import each other at module level"
    for importer, imported in CALL_TIME_SERVICE_IMPORTS:
        assert importer in _reachable(graph, imported), f"{importer} → {imported} is listed but is not needed"


def _service_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    return sorted(node for node in graph if node in _reachable(graph, node))


# --- one owner per table ---------------------------------------------------------------------

_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|JOIN)\b", re.IGNORECASE)
_CREATE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", re.IGNORECASE)


def _table_owners() -> dict[str, str]:
    """Each table with the app whose migrations create it (`govbuy`: the kernel's)."""
    owners = {}
    for app in PACKAGES:
        for path in sorted((ROOT / app / "piccolo_migrations").glob("*.py")):
            for table in _CREATE.findall(path.read_text(encoding="utf-8")):
                owners.setdefault(table.lower(), app)
    return owners


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    return {
        id(n.body[0].value)
        for n in nodes
        if n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
    }


def _sql_strings(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if _SQL.search(node.value):
                yield node.lineno, node.value


def test_the_table_owners_are_known() -> None:
    owners = _table_owners()
    assert {"tenders", "contracts", "evaluations", "catalogue_items", "credit_ratings"} <= owners.keys()
    assert owners["catalogue_items"] == "planning" and owners["documents"] == "govbuy"


def test_no_domain_sql_names_another_domains_table() -> None:
    owners = _table_owners()
    found = []
    for module, path in sorted(MODULES.items()):
        domain = _domain(module)
        if domain is None:
            continue
        for line, sql in _sql_strings(path):
            for table, owner in owners.items():
                if owner not in (domain, "govbuy") and re.search(rf"\b{table}\b", sql, re.IGNORECASE):
                    if _names_table(sql, table):
                        found.append(f"{module}:{line} names {table} ({owner}'s)")
                if owner == "govbuy" and re.search(rf"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+{table}\b", sql, re.I):
                    found.append(f"{module}:{line} writes {table} (the kernel's: only its functions write it)")
    assert found == [], "\n".join(found)


def _names_table(sql: str, table: str) -> bool:
    """Whether the SQL uses the table as a table (a column of the same name, such as a
    tender's `milestones` plan, is not the milestones table)."""
    return bool(
        re.search(rf"\b(FROM|JOIN|UPDATE|INTO|TABLE|USING)\s+(ONLY\s+)?{table}\b", sql, re.IGNORECASE)
        or re.search(rf"\b{table}\s*\.\s*[a-z_]", sql, re.IGNORECASE)
    )


# --- the top layer says what it reads ---------------------------------------------------------

TOP_READS_NOTE = "reads any domain's tables"


def _names_a_domain_table(path: Path, owners: dict[str, str]) -> bool:
    return any(
        owner != "govbuy" and _names_table(sql, table)
        for _, sql in _sql_strings(path)
        for table, owner in owners.items()
    )


def test_the_kernel_names_no_domain_table() -> None:
    owners = _table_owners()
    found = [m for m, path in sorted(MODULES.items()) if _kind(m) == "kernel" and not _is_top(m)
             and _names_a_domain_table(path, owners)]
    assert found == []


def test_the_top_layer_says_it_reads_any_table() -> None:
    """The top (public feed, demo, seed) and the benches may read any table set-based, and
    say so in their module docstring (habit 14)."""
    owners = _table_owners()
    paths = [p for m, p in MODULES.items() if _is_top(m)]
    paths += [p for folder in ("bench", "scripts") for p in (ROOT / folder).rglob("*.py")]
    silent = []
    for path in sorted(paths):
        if _names_a_domain_table(path, owners):
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            if TOP_READS_NOTE not in " ".join(doc.split()):
                silent.append(str(path.relative_to(ROOT)))
    assert silent == [], "\n".join(silent)
