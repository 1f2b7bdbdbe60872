"""The ``--json`` documents of every command, as data: what docs/json.md promises scripts.

A spec is a Python type (``str``, ``int``, ``float``, ``bool``, ``None``), a tuple of specs (any
of them), a one-item list (a list of that), a dict (an object: key -> spec; a key ending in
``?`` may be absent) or :data:`TREE` (the recursive code tree of ``inspect``). :func:`errors`
checks a value against a spec and names every mismatch; :func:`rows` flattens a spec into the
field table docs/json.md prints, so the two cannot drift apart. Unknown keys are mismatches: a
field nobody documented is not part of the contract.
"""

from __future__ import annotations

from typing import Any

Spec = Any

PROBLEM: dict[str, Spec] = {"path": str, "line": int, "column": int, "kind": str, "message": str,
                            "target": (str, None)}
ENVELOPE: dict[str, Spec] = {"schema": int, "command": str, "ok": bool}
TREE = "tree"  # the code tree refers to itself
TREE_NODE: dict[str, Spec] = {"kind": str, "name": str, "qualname": str, "line": int, "children": [TREE]}
DIS = "dis"  # so does the structured disassembly
DIS_NODE: dict[str, Spec] = {
    "name": str, "qualname": str, "kind": str, "filename": str, "firstlineno": int,
    "instructions": [{"offset": int, "start_offset": int, "opname": str, "opcode": int, "arg": (int, None),
                      "argrepr": str, "line": (int, None), "starts_line": bool, "jump_target": (int, None),
                      "is_jump_target": bool, "label": (int, None)}],
    "exception_table": [{"start": int, "end": int, "target": int, "depth": int, "lasti": bool}],
    "children": [DIS]}
NODES: dict[str, dict[str, Spec]] = {TREE: TREE_NODE, DIS: DIS_NODE}
"""The recursive shapes, by the name a spec uses for them."""
_CODE_INFO: dict[str, Spec] = {
    "name": str, "qualname": str, "filename": str, "argcount": int, "posonlyargcount": int, "kwonlyargcount": int,
    "nlocals": int, "stacksize": int, "flags": int, "flag_names": str, "consts": [str], "names": [str],
    "varnames": [str], "freevars": [str], "cellvars": [str]}

_SUMMARY = {k: int for k in ("sources", "pycs", "fresh", "compiled", "linked", "failed", "problems", "warnings")}
_PLANNED = {"source": str, "target": str, "optimize": int, "pyc": str, "state": str, "reason?": str,
            "field?": (str, None), "recorded?": (int, str, None), "found?": (int, str, None)}
_ENTRY = {"number": int, "magic_bytes": str, "python": str, "versions": str, "header_size": int,
          "release": bool, "notes": str}
_HEADER = {"magic": int, "size": int, "mode": str, "flags": (int, None), "mtime": (int, None),
           "source_size": (int, None), "source_hash": (str, None)}
_INSPECTED = {"path": str, "magic": int, "python": str, "versions": str, "header_size": int, "mode": str,
              "flags": (int, None), "mtime": (int, None), "source_size": (int, None), "source_hash": (str, None),
              "source": (str, None), "fresh": (bool, None), "freshness": str, "loadable": bool,
              "tree": (TREE, None), "dis?": [DIS], "info?": [_CODE_INFO]}
_INSPECTED_SOURCE = {"path": str, "python": str, "dis?": [DIS], "info?": [_CODE_INFO]}
_UNREADABLE = {"path": str, "error": str}
_BUNDLE_TARGET = {"target": str, "python": str, "entry": {"kind": str, "module": str, "attribute": str},
                  "modules": int, "code_bytes": int, "stdlib_modules": int, "stdlib_bytes": int, "distributions": [{"name": str, "version": str}],
                  "native": [str], "files": int}
_BUNDLED = {"path": str, "bundle": {"format": int, "name": str, "requires_python": str, "fast_start": bool,
                                    "size": int, "stored_files": int,
                                    "targets": [{**_BUNDLE_TARGET, "index_bytes": int}]}}
_CACHED = {"name": str, "path": str, "size": int, "files": int, "used": float, "complete": bool}

SCHEMAS: dict[str, dict[str, Spec]] = {
    "problem": PROBLEM,
    "compile": {**ENVELOPE, "elapsed": float, "summary": _SUMMARY,
                "files": [{**_PLANNED, "outcome": str, "error?": PROBLEM}], "problems": [PROBLEM]},
    "check": {**ENVELOPE, "elapsed": float, "summary": _SUMMARY, "files": [_PLANNED], "problems": [PROBLEM]},
    "check-sourceless": {**ENVELOPE, "elapsed": float, "sourceless": bool, "target": str,
                         "summary": {"pycs": int, "problems": int}, "files": [{"pyc": str, "ok": bool}],
                         "problems": [PROBLEM]},
    "sourceless": {**ENVELOPE, "elapsed": float, "target": str, "optimize": int, "in_place": bool, "dry_run": bool,
                   "trees": [{"path": str, "changed": bool, "compiled": [str],
                              "kept": [{"path": str, "reason": str}], "warnings": [PROBLEM], "problems": [PROBLEM],
                              "removed": [str], "records": [str]}],
                   "problems": [PROBLEM]},
    "clean": {**ENVELOPE, "dry_run": bool, "removed": [str], "folders_removed": [str], "kept_sourceless": int,
              "kept": [{"path": str, "reason": str}], "problems": [PROBLEM]},
    "magic-query": {**ENVELOPE, "query": (str, None), "entries": [_ENTRY], "problems": [PROBLEM]},
    "magic-file": {**ENVELOPE, "path": str, "entry": (_ENTRY, None), "header": (_HEADER, None),
                   "problems": [PROBLEM]},
    "inspect": {**ENVELOPE, "files": [(_INSPECTED, _INSPECTED_SOURCE, _BUNDLED, _UNREADABLE)],
                "problems": [PROBLEM]},
    "imports": {**ENVELOPE, "summary": {"files": int, "modules": int, "missing": int}, "pythons": [str],
                "environment": ({"where": str, "python": (str, None), "site_dirs": [str]}, None),
                "modules": [{"name": str, "kind": str, "distribution": (str, None), "version": (str, None),
                             "sites": [{"file": str, "line": (int, None), "scope": str, "guarded": bool,
                                        "how": str, "implicit_relative": bool, "typing_only": bool,
                                        "guard": (str, None)}]}],
                "dynamic": [{"file": str, "line": (int, None), "scope": str, "how": str, "pattern": (str, None),
                             "guarded": bool, "typing_only": bool}],
                "declared": ({"pyproject": str, "project": (str, None), "declared": [str],
                              "undeclared": [{"distribution": str, "version": str, "modules": [str],
                                              "required": bool}],
                              "unused": [{"name": str, "extra": (str, None), "installed": bool}]}, None),
                "requirements": ([str], None),
                "problems": [PROBLEM]},
    "wheel": {**ENVELOPE, "wheels": [{"source": str, "target": str, "output": str, "tags": [str], "compiled": int,
                                      "kept": [{"path": str, "reason": str}], "warnings": [str]}],
              "built": [{"project": str, "wheel": str}], "problems": [PROBLEM]},
    "bundle": {**ENVELOPE, "output": (str, None), "size": int, "sha256": str, "targets": [_BUNDLE_TARGET],
               "skipped": [{"target": str, "reason": str}], "warnings": [PROBLEM], "problems": [PROBLEM]},
    "cache": {**ENVELOPE, "root": str, "pruned": bool, "entries": [_CACHED], "problems": [PROBLEM]},
    "targets": {**ENVELOPE, "targets": [{"version": str, "implementation": str, "cache_tag": str, "magic": int,
                                         "magic_bytes": str, "executable": str, "current": bool}],
                "problems": [PROBLEM]},
}


def errors(value: Any, spec: Spec, where: str = "$") -> list[str]:
    """Every way ``value`` differs from ``spec``; empty when it conforms."""
    if isinstance(spec, str):
        spec = NODES[spec]
    if isinstance(spec, tuple):
        found = [errors(value, one, where) for one in spec]
        return [] if any(not e for e in found) else min(found, key=len)
    if spec is None:
        return [] if value is None else [f"{where}: {value!r} is not null"]
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__} is not a list"]
        return [e for i, item in enumerate(value) for e in errors(item, spec[0], f"{where}[{i}]")]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} is not an object"]
        keys = {k.rstrip("?"): k.endswith("?") for k in spec}
        out = [f"{where}.{k}: not documented" for k in value if k not in keys]
        out += [f"{where}.{k}: missing" for k, optional in keys.items() if not optional and k not in value]
        for key, sub in spec.items():
            name = key.rstrip("?")
            if name in value:
                out += errors(value[name], sub, f"{where}.{name}")
        return out
    if spec is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif spec is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, spec)
    return [] if ok else [f"{where}: {value!r} is not {type_name(spec)}"]


_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", None: "null"}


def type_name(spec: Spec) -> str:
    """The type as docs/json.md writes it: ``string``, ``integer or null``, ``list of object``..."""
    if spec is PROBLEM:
        return "problem"
    if isinstance(spec, tuple):
        return " or ".join(dict.fromkeys(type_name(s) for s in spec))
    if isinstance(spec, list):
        return f"list of {type_name(spec[0])}"
    if isinstance(spec, (dict, str)):
        return "object"
    return _NAMES[spec]


def rows(spec: Spec, prefix: str = "") -> dict[str, str]:
    """Field path (``files[].error``) -> type name, for every field a document can hold. A
    field only some documents or list items hold says ``(optional)``; a problem's fields are
    listed once, in their own table, and the code tree's once (``children`` have its shape)."""
    out: dict[str, str] = {}
    objects = [s for s in (spec if isinstance(spec, tuple) else (spec,)) if isinstance(s, dict)]
    merged: dict[str, list[Spec]] = {}
    for obj in objects:
        for key, sub in obj.items():
            merged.setdefault(key.rstrip("?"), []).append(sub if not key.endswith("?") else ("?", sub))
    for name, subs in merged.items():
        optional = len(subs) < len(objects) or any(isinstance(s, tuple) and s[:1] == ("?",) for s in subs)
        sub = next(s[1] if isinstance(s, tuple) and s[:1] == ("?",) else s for s in subs)
        path = prefix + name
        out[path] = type_name(sub) + (" (optional)" if optional else "")
        inner = sub
        if isinstance(inner, tuple):
            inner = next((s for s in inner if isinstance(s, (dict, list, str))), None)
        if isinstance(inner, list):
            path += "[]"
            inner = inner[0]
            if isinstance(inner, tuple) and any(isinstance(s, dict) for s in inner):
                out.update(rows(inner, path + "."))
                continue
        if inner is PROBLEM:
            continue  # one shape everywhere, documented once
        if isinstance(inner, str):
            if name != "children":
                out.update(rows(NODES[inner], path + "."))
        elif isinstance(inner, dict):
            out.update(rows(inner, path + "."))
    return out
