"""An import-linter contract type of ours: how the domains of STYLE.md may use each other.

import-linter's own contracts say "these modules never import those", which cannot say "a
service may import its own domain's tables but not another domain's". This one can. For an
import from a module of domain X to a module of domain Y (X ≠ Y, both in `domains`):

- Y's router and repository are never imported: a domain is used through its service;
- Y's models (tables, documents) are imported only by X's models (a foreign key);
- Y's service is never imported by X's repository, models or schemas;
- everything else of Y (its service from X's service or router, schemas, dependencies,
  constants) may be.

And `compositions` (workflows, views, subscribers, jobs, use cases) import no domain's router,
repository or models: they too go through services. Registered in pyproject.toml; proved to
fail, rule by rule, by tests/architecture/test_contracts.py."""

from __future__ import annotations

from dataclasses import dataclass

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

SERVICE_IMPORTERS = ("service", "router", "rules", "dependencies", "defaults")


@dataclass(frozen=True)
class Breach:
    importer: str
    imported: str
    rule: str
    line: int


class DomainBoundaries(Contract):
    type_name = "domain_boundaries"

    domains = fields.ListField(subfield=fields.StringField())
    compositions = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        domains = {d.rsplit(".", 1)[-1] for d in self.domains}  # type: ignore[attr-defined]
        compositions = {c.rsplit(".", 1)[-1] for c in self.compositions}  # type: ignore[attr-defined]
        breaches: list[Breach] = []
        for importer in sorted(graph.modules):
            for imported in graph.find_modules_directly_imported_by(importer):
                rule = _broken_rule(importer, imported, domains, compositions)
                if rule is None:
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                line = details[0]["line_number"] if details else 0
                breaches.append(Breach(importer, imported, rule, line))
        return ContractCheck(kept=not breaches, metadata={"breaches": breaches})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for breach in check.metadata["breaches"]:
            output.print_error(
                f"{breach.importer} (l.{breach.line}) imports {breach.imported}: {breach.rule}"
            )
            output.new_line()


def _parts(module: str) -> tuple[str, str]:
    """(package, module) under the root: `oneenglish.users.service` -> ("users", "service")."""
    pieces = module.split(".")
    return (pieces[1] if len(pieces) > 1 else "", pieces[2] if len(pieces) > 2 else "")


def _broken_rule(
    importer: str, imported: str, domains: set[str], compositions: set[str]
) -> str | None:
    source_package, source_module = _parts(importer)
    target_package, target_module = _parts(imported)
    if target_package not in domains or source_package == target_package:
        return None
    if source_package in compositions:
        if target_module in ("router", "repository", "models"):
            return f"a composition uses {target_package} through its service"
        return None
    if source_package not in domains:
        return None
    if target_module == "router":
        return "another domain's router is never imported"
    if target_module == "repository":
        return "another domain's repository is never imported: use its service"
    if target_module == "models" and source_module != "models":
        return "another domain's tables are used through its service (only models may refer)"
    if target_module == "service" and source_module not in SERVICE_IMPORTERS:
        return f"a {source_module} never calls another domain's service"
    return None
