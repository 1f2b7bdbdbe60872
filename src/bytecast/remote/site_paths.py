# -*- coding: utf-8 -*-
"""Say where this interpreter's installed distributions live: lines on stdout.

Run by bytecast as ``python -E -s -S site_paths.py`` (2.7 and 3.6+) for ``imports --env``:
``bytecast-site``, the version (``X.Y``), then one site-packages folder per line. Nothing of
the environment is imported: bytecast reads the ``*.dist-info`` folders itself.
"""

import sys

if __name__ == "__main__" and not getattr(sys.flags, "isolated", 0):
    del sys.path[0]  # this script's folder (or, run with -c, the current one): it may shadow the stdlib

import os
import sysconfig

found = []
paths = sysconfig.get_paths()
for key in ("purelib", "platlib"):
    if paths.get(key):
        found.append(paths[key])
try:
    import site  # with -S its main() does not run: nothing is added to sys.path
    found.extend(site.getsitepackages())
except (ImportError, AttributeError):  # virtualenv's old site.py has no getsitepackages
    pass
out = ['bytecast-site', '%d.%d' % sys.version_info[:2]]
for path in found:
    path = os.path.realpath(path)
    if path not in out and os.path.isdir(path):
        out.append(path)
sys.stdout.write('\n'.join(out) + '\n')
