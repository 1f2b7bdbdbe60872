"""Regenerate the seed pycs the fuzz tests mutate: one small module compiled by each CPython.

    python tests/data/fuzz/seeds/make_seeds.py

Uses every interpreter it finds (pyenv versions folder, then pythonX.Y on PATH) and writes
"X.Y.pyc" here; interpreters that are absent are skipped (their old seeds stay).
"""

# Runs under Python 2.7 too, so it keeps the oldest syntax:
# ruff: noqa: UP031

import glob
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VERSIONS = ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]

SOURCE = '''\
"""Seed module: a little of everything marshal and the compiler produce."""
from __future__ import print_function
import os
from os import path as p
try:
    import json
except ImportError:
    json = None
BIG = 2 ** 100
NEG = -(2 ** 70)
F = 1.5e300
C = 2j + 1
B = b"\\x00\\xff"
U = u"h\\xe9\\u20ac"
S = frozenset(["a", "b"])
T = (1, (2, (3, None)), True, Ellipsis)


class Klass(object):
    attr = [x * 2 for x in range(3)]

    def method(self, a, b=1, *args, **kw):
        def inner():
            return a + b
        return inner, {k: v for k, v in kw.items()}


def gen(n):
    for i in range(n):
        yield lambda: i
    mod = __import__("string")
    yield mod
'''


def find(version):
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for exe in sorted(glob.glob(os.path.join(root, "versions", version + ".*", "bin", "python"))):
        return exe
    found = shutil.which("python" + version)
    return found if found and "shims" not in found else None


def main():
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "seed.py")
        with open(src, "w") as f:
            f.write(SOURCE)
        for version in VERSIONS:
            exe = find(version)
            if exe is None:
                print("skip %s: not installed" % version)
                continue
            out = os.path.join(HERE, version + ".pyc")
            subprocess.check_call([exe, "-c", "import py_compile, sys; "
                                   "py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
                                   "doraise=True)", src, out])
            print("wrote %s" % out)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
