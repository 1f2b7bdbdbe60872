"""Build time, inside a bundle's target: which standard-library modules the application loads.

Run as ``python -I -S -c TEXT OUT`` (the flags a bundle starts with) with a bundle's index,
without its standard-library table, marshalled on stdin. It sets the bundle up with the index's
own bootstrap (:func:`install`, as a start does: the same ``sys.path``, the same finder), then
imports the entry module, then each module the entry function imports (given in the index
under ``"named"``: ``(module, fromlist)``), so the modules a program loads only once it runs are
found too. What it writes to OUT (marshal): the guard of
this interpreter (:func:`stdlib_guard`), every module that came from a source file of this
interpreter's search path (never a frozen, builtin or extension module, never one of the
bundle's), and the lines of what failed.

The entry module runs as it would at a start: this is the application's code, run once on the
machine that builds it. Names a program would not import for its effects are never imported
(``antigravity`` opens a browser, ``this`` prints, ``idlelib`` and ``turtledemo`` start programs).

Syntax: Python 3.9 and later; the standard library only.
"""

import sys

_NEVER = ("antigravity", "this", "idlelib", "turtledemo", "__hello__", "__phello__", "__main__")


def main():
    import _imp
    import marshal
    import os
    from importlib.machinery import SourceFileLoader

    out = sys.argv[1]
    data = sys.stdin.buffer.read()
    index = marshal.loads(data)
    space = {"__name__": "bytecast_bundle_boot", "__builtins__": __builtins__}
    exec(marshal.loads(index["boot"]), space)
    before = set(sys.modules)
    space["install"](index, index["archive"], data)
    guard = space["stdlib_guard"]()
    failed = []
    module = index["entry"][1]
    saved = sys.stdout, sys.stderr
    with open(os.devnull, "w") as quiet:
        sys.stdout = sys.stderr = quiet  # what the application prints as it imports is not ours to show
        try:
            try:
                __import__(module)
            except BaseException as exc:  # the application's, reported as a line
                failed.append("importing %s: %s: %s" % (module, type(exc).__name__, exc))
            for name, fromlist in index["named"]:
                if name.split(".")[0] in _NEVER:
                    continue
                try:
                    __import__(name, fromlist=fromlist)
                except BaseException:  # the program's own import fails the same way
                    pass
        finally:
            sys.stdout, sys.stderr = saved
    search = tuple(os.path.join(p, "") for p in sys.path if p)
    found = []
    for name in sorted(set(sys.modules) - before):
        spec = getattr(sys.modules.get(name), "__spec__", None)
        loader = getattr(spec, "loader", None)
        if spec is None or type(loader) is not SourceFileLoader or not isinstance(spec.origin, str):
            continue
        if _imp.is_builtin(name) or _imp.is_frozen(name) or not spec.origin.endswith(".py"):
            continue
        if not spec.origin.startswith(search):
            continue
        found.append((name, spec.submodule_search_locations is not None, spec.origin, spec.cached))
    data = marshal.dumps({"guard": guard, "modules": found, "failed": failed}, 4)
    with open(out, "wb") as f:
        f.write(data)
    os._exit(0)  # the application's threads and exit handlers are not ours to wait for


if __name__ == "__main__":
    main()
