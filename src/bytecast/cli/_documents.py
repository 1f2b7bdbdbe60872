"""The ``--json`` documents of every command, declared as types.

Only the type checker reads this module (the commands import it under ``TYPE_CHECKING``), so
declaring the documents costs a run nothing. The keys are a promise to scripts (docs/json.md):
every document starts with :class:`Envelope` (``schema``, ``command``, ``ok``) and has
``problems``; a key may be added under the same ``schema``, and renaming or dropping one, or
changing its type or meaning, makes ``schema`` the next integer. A problem has one shape
everywhere, :class:`ProblemDoc`, that of :meth:`bytecast.problem.Problem.to_json`.
"""

from __future__ import annotations

from typing import TypedDict, Union

__all__ = [
    "Envelope", "ProblemDoc", "KeptDoc", "FileDoc", "SummaryDoc", "ReportDoc", "CleanDoc",
    "MagicEntryDoc", "MagicQueryDoc", "HeaderDoc", "MagicFileDoc", "TreeDoc", "InspectFileDoc", "InspectErrorDoc",
    "InspectSourceDoc", "InstructionDoc", "ExceptionEntryDoc", "CodeDisDoc", "CodeInfoDoc", "InspectDoc",
    "TargetDoc", "TargetsDoc",
]


class ProblemDoc(TypedDict):
    """A file that could not be processed (every command, every list of problems)."""

    path: str
    line: int
    column: int
    kind: str
    message: str
    target: str | None


class Envelope(TypedDict):
    """What every document starts with: ``ok`` is true exactly when the exit status is 0."""

    schema: int
    command: str
    ok: bool


class _FileBase(TypedDict):
    source: str
    target: str
    optimize: int
    pyc: str
    state: str


class FileDoc(_FileBase, total=False):
    """One planned .pyc of ``compile`` / ``check``; ``outcome`` and ``error`` on compile only;
    ``reason`` (in words), ``field`` (what differs), ``recorded`` and ``found`` on check, for a
    pyc that is not fresh."""

    outcome: str
    error: ProblemDoc
    reason: str
    field: str | None
    recorded: int | str | None
    found: int | str | None


class SummaryDoc(TypedDict):
    sources: int
    pycs: int
    fresh: int
    compiled: int
    linked: int
    failed: int
    problems: int
    warnings: int


class ReportDoc(Envelope):
    """``compile --json`` and ``check --json``. ``problems`` also lists compiler warnings (kind
    ``warning``), which ``summary.warnings`` counts; they do not count in ``summary.problems``
    and do not make ``ok`` false."""

    elapsed: float
    summary: SummaryDoc
    problems: list[ProblemDoc]
    files: list[FileDoc]


class KeptDoc(TypedDict):
    """A file named on the command line that ``clean`` kept, and why."""

    path: str
    reason: str


class CleanDoc(Envelope):
    """``clean --json``."""

    dry_run: bool
    removed: list[str]
    folders_removed: list[str]
    kept_sourceless: int
    kept: list[KeptDoc]
    problems: list[ProblemDoc]


class MagicEntryDoc(TypedDict):
    number: int
    magic_bytes: str
    python: str
    versions: str
    header_size: int
    release: bool
    notes: str


class MagicQueryDoc(Envelope):
    """``magic --json NUMBER-OR-VERSION`` (``query`` is None for ``--all``)."""

    query: str | None
    entries: list[MagicEntryDoc]
    problems: list[ProblemDoc]


class HeaderDoc(TypedDict):
    magic: int
    size: int
    mode: str
    flags: int | None
    mtime: int | None
    source_size: int | None
    source_hash: str | None


class MagicFileDoc(Envelope):
    """``magic --json FILE.pyc``; ``header`` is None (and ``problems`` says why) for a bad file."""

    path: str
    entry: MagicEntryDoc | None
    header: HeaderDoc | None
    problems: list[ProblemDoc]


class TreeDoc(TypedDict):
    kind: str
    name: str
    qualname: str
    line: int
    children: list[TreeDoc]


class _InspectBase(TypedDict):
    path: str
    magic: int
    python: str
    versions: str
    header_size: int
    mode: str
    flags: int | None
    mtime: int | None
    source_size: int | None
    source_hash: str | None
    source: str | None
    fresh: bool | None
    freshness: str
    loadable: bool
    tree: TreeDoc | None


class InstructionDoc(TypedDict):
    """One instruction of ``inspect --json --dis``, as the code's own ``dis`` sees it."""

    offset: int
    start_offset: int
    opname: str
    opcode: int
    arg: int | None
    argrepr: str
    line: int | None
    starts_line: bool
    jump_target: int | None
    is_jump_target: bool
    label: int | None


class ExceptionEntryDoc(TypedDict):
    """One row of a 3.11+ exception table (byte offsets; ``end`` is exclusive)."""

    start: int
    end: int
    target: int
    depth: int
    lasti: bool


class CodeDisDoc(TypedDict):
    """One code object of ``inspect --json --dis`` and the code nested in it."""

    name: str
    qualname: str
    kind: str
    filename: str
    firstlineno: int
    instructions: list[InstructionDoc]
    exception_table: list[ExceptionEntryDoc]
    children: list[CodeDisDoc]


class CodeInfoDoc(TypedDict):
    """``inspect --json --info``: what ``dis.code_info`` shows of one code object."""

    name: str
    qualname: str
    filename: str
    argcount: int
    posonlyargcount: int
    kwonlyargcount: int
    nlocals: int
    stacksize: int
    flags: int
    flag_names: str
    consts: list[str]
    names: list[str]
    varnames: list[str]
    freevars: list[str]
    cellvars: list[str]


class InspectFileDoc(_InspectBase, total=False):
    """One file of ``inspect --json``; ``dis`` with ``--dis``, ``info`` with ``--info`` (one
    entry per code object shown: the module, or each match of ``--function``)."""

    dis: list[CodeDisDoc]
    info: list[CodeInfoDoc]


class InspectSourceDoc(TypedDict, total=False):
    """A ``.py`` file of ``inspect --json``, compiled by a worker of ``python``."""

    path: str
    python: str
    dis: list[CodeDisDoc]
    info: list[CodeInfoDoc]


class InspectErrorDoc(TypedDict):
    """A file ``inspect`` could not read (also listed in the document's ``problems``)."""

    path: str
    error: str


class InspectDoc(Envelope):
    """``inspect --json``."""

    files: list[Union[InspectFileDoc, InspectSourceDoc, InspectErrorDoc]]
    problems: list[ProblemDoc]


class TargetDoc(TypedDict):
    version: str
    implementation: str
    cache_tag: str
    magic: int
    magic_bytes: str
    executable: str
    current: bool


class TargetsDoc(Envelope):
    """``targets --json``."""

    targets: list[TargetDoc]
    problems: list[ProblemDoc]
