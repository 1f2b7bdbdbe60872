# ruff: noqa: UP031, UP032 - kept as the stdlib spells it, to diff against it
"""Run CPython's own test_compileall and test_py_compile against bytecast's drop-ins.

Usage: ``python tests/stdlib_runner.py [test_compileall] [test_py_compile]``, with bytecast
importable (``PYTHONPATH=src``). Runs under the interpreter that runs it, with the test files
of that interpreter's own ``Lib/test``; exits 0 when every test passes.

How the modules are swapped in:

- In this process, ``sys.modules['compileall']`` and ``sys.modules['py_compile']`` are
  bytecast's modules, so the tests' ``import compileall`` and their ``mock.patch('compileall.
  compile_file')`` reach bytecast.
- The tests also run the command lines as ``python -m compileall`` / ``-m py_compile`` in
  child interpreters, mostly isolated (``-I``, so PYTHONPATH is ignored). The test source is
  loaded with those arguments rewritten to a ``-c`` bootstrap that puts bytecast on
  ``sys.path`` and runs ``bytecast.compileall`` / ``bytecast.py_compile`` as ``__main__``.
  Every rewrite must match, or the runner fails: a new test file is never run half-swapped.

This script runs on every interpreter bytecast supports (3.9+).
"""

from __future__ import annotations

import os
import sys
import types
import unittest

SKIPS = {
    "test_compileall": {
        "test_compile_pool_called": (
            "asserts that concurrent.futures.ProcessPoolExecutor is used for workers > 1; "
            "bytecast compiles in its own pool of fresh interpreters (reproducible bytes), "
            "tested in tests/test_dropin.py"
        ),
        "test_compile_workers_cpu_count": (
            "asserts ProcessPoolExecutor(max_workers=None) for workers=0; bytecast's pool "
            "takes one worker per usable CPU, tested in tests/test_dropin.py"
        ),
        "test_compile_one_worker": (
            "asserts that compile_dir with one worker calls compile_file once per file; "
            "bytecast sends the whole folder to its one worker in batches (one file at a time "
            "waited for the worker once per file), tested in tests/test_dropin.py"
        ),
        "test_compile_missing_multiprocessing": (
            "asserts the fallback to one-by-one compile_file calls when ProcessPoolExecutor "
            "is missing; bytecast's pool does not use multiprocessing, so it has no such "
            "fallback"
        ),
    },
    "test_py_compile": {},
}
"""Tests that cannot apply to bytecast, with the reason; reported as skipped."""


def _boot(module: str) -> str:
    import bytecast

    assert bytecast.__file__ is not None
    src = os.path.dirname(os.path.dirname(os.path.abspath(bytecast.__file__)))
    return (
        "import os, sys\n"
        "sys.dont_write_bytecode = True\n"  # keep the checkout clean; compileall ignores it
        "sys.path.insert(0, {src!r})\n"
        "import bytecast\n"
        "del sys.path[0]\n"
        # -m puts the working directory first where -c puts ''
        "if sys.path and sys.path[0] == '':\n"
        "    sys.path[0] = os.getcwd()\n"
        "import runpy\n"
        "runpy.run_module('bytecast.{module}', run_name='__main__', alter_sys=True)\n"
    ).format(src=src, module=module)


def _bytecast_args(opts: str, module: str) -> list[str]:
    """``-m MODULE`` (or ``-Om MODULE``) as arguments that run bytecast's MODULE."""
    head = {"-m": [], "-Om": ["-O"]}[opts]
    return head + ["-c", _boot(module)]


REWRITES = {
    "test_compileall": [("'-m', 'compileall'", "'-c', _boot('compileall')")],
    "test_py_compile": [
        # 3.9-3.12 spell it out; 3.13 picks '-m' or '-Om' at run time
        ("'-m', 'py_compile'", "'-c', _boot('py_compile')"),
        ("opts, 'py_compile'", "*_bytecast_args(opts, 'py_compile')"),
    ],
}


def load(name: str) -> types.ModuleType:
    """The stdlib test module ``name`` with its command lines pointed at bytecast."""
    import test  # type: ignore[import-not-found,unused-ignore]  # the interpreter's own Lib/test

    path = os.path.join(os.path.dirname(test.__file__), name + ".py")
    with open(path, encoding="utf-8") as f:
        source = f.read()
    matched = 0
    for old, new in REWRITES[name]:
        matched += source.count(old)
        source = source.replace(old, new)
    if not matched:
        raise SystemExit("%s: no command line to rewrite; update REWRITES" % path)
    module = types.ModuleType("bytecast_stdlib_" + name)
    module.__file__ = path  # the tests find their data files beside it
    vars(module)["_boot"] = _boot
    vars(module)["_bytecast_args"] = _bytecast_args
    sys.modules[module.__name__] = module
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def skip_inapplicable(module: types.ModuleType, skips: dict[str, str]) -> None:
    """Replace each test of ``skips`` by one that reports the reason as a skip."""
    found = set()
    for obj in list(vars(module).values()):
        if isinstance(obj, type) and issubclass(obj, unittest.TestCase):
            for name, reason in skips.items():
                if hasattr(obj, name):
                    setattr(obj, name, unittest.skip("bytecast: " + reason)(lambda self: None))
                    found.add(name)
    missing = set(skips) - found
    if missing:
        print("note: no such test here (skip list entry unused): %s" % ", ".join(sorted(missing)))


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(SKIPS)
    # The stdlib tests expect imports to write bytecode (HardlinkDedupTests.test_import).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    import bytecast.compileall
    import bytecast.py_compile

    saved = {n: sys.modules.get(n) for n in ("compileall", "py_compile")}
    sys.modules["compileall"] = bytecast.compileall
    sys.modules["py_compile"] = bytecast.py_compile
    try:
        suite = unittest.TestSuite()
        for name in names:
            module = load(name)
            skip_inapplicable(module, SKIPS[name])
            suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(module))
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m
    print("python %s: ran %d, failures %d, errors %d, skipped %d"
          % (sys.version.split()[0], result.testsRun, len(result.failures),
             len(result.errors), len(result.skipped)))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
