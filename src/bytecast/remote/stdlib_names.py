# -*- coding: utf-8 -*-
"""Print the top-level module names of this interpreter's standard library, one a line.

Run by bytecast as ``python -E -s -S stdlib_names.py`` on an interpreter of a version it has
no names file for (``bytecast/stdlib_names/X.Y.txt``), to tell stdlib imports from others.
"""

import sys

if __name__ == "__main__" and not getattr(sys.flags, "isolated", 0):
    del sys.path[0]  # this script's folder (or, run with -c, the current one): it may shadow the stdlib

import os
import pkgutil
import sysconfig

names = set(sys.builtin_module_names)
lib = sysconfig.get_paths()["stdlib"]
for found in pkgutil.iter_modules([lib, os.path.join(lib, "lib-dynload")]):
    names.add(found[1])
sys.stdout.write("\n".join(sorted(names)))
