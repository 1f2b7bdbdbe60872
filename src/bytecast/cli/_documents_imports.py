"""The ``imports --json`` document's types (the other commands' are in :mod:`._documents`)."""

from __future__ import annotations

from typing import TypedDict

from bytecast.cli._documents import Envelope, ProblemDoc

__all__ = ["SiteDoc", "DynamicDoc", "EnvironmentDoc", "UndeclaredDoc", "UnusedDoc", "DeclaredDoc", "ModuleDoc",
           "ImportsSummaryDoc", "ImportsDoc"]


class SiteDoc(TypedDict):
    file: str
    line: int | None
    scope: str
    guarded: bool
    how: str
    implicit_relative: bool
    typing_only: bool
    guard: str | None


class DynamicDoc(TypedDict):
    file: str
    line: int | None
    scope: str
    how: str
    pattern: str | None
    guarded: bool
    typing_only: bool


class EnvironmentDoc(TypedDict):
    where: str
    python: str | None
    site_dirs: list[str]


class UndeclaredDoc(TypedDict):
    distribution: str
    version: str
    modules: list[str]
    required: bool


class UnusedDoc(TypedDict):
    name: str
    extra: str | None
    installed: bool


class DeclaredDoc(TypedDict):
    pyproject: str
    project: str | None
    declared: list[str]
    undeclared: list[UndeclaredDoc]
    unused: list[UnusedDoc]


class ModuleDoc(TypedDict):
    name: str
    kind: str
    distribution: str | None
    version: str | None
    sites: list[SiteDoc]


class ImportsSummaryDoc(TypedDict):
    files: int
    modules: int
    missing: int


class ImportsDoc(Envelope):
    """``imports --json``."""

    summary: ImportsSummaryDoc
    pythons: list[str]
    problems: list[ProblemDoc]
    environment: EnvironmentDoc | None
    modules: list[ModuleDoc]
    dynamic: list[DynamicDoc]
    declared: DeclaredDoc | None
    requirements: list[str] | None
    """With ``--requirements``: the lines a requirements file would hold; else None."""
