# -*- coding: utf-8 -*-
"""Say what this interpreter is: one line of tab-separated fields on stdout.

Run by bytecast as ``python -E -s -S query.py`` on every interpreter it may compile for (2.7
and 3.6+): ``bytecast-query``, the full version, the implementation, the cache tag, the magic
number in hex, the real path of the binary.
"""

import sys

if __name__ == "__main__" and not getattr(sys.flags, "isolated", 0):
    del sys.path[0]  # this script's folder (or, run with -c, the current one): it may shadow the stdlib

import binascii
import os

try:
    from importlib.util import MAGIC_NUMBER as m
except ImportError:
    import imp
    m = imp.get_magic()
i = getattr(sys, 'implementation', None)
name = i.name if i is not None else ('pypy' if 'PyPy' in sys.version else 'cpython')
tag = i.cache_tag if i is not None else None
if tag is None:
    tag = '%s-%d%d' % (name, sys.version_info[0], sys.version_info[1])
exe = os.path.realpath(sys.executable) if sys.executable else ''
sys.stdout.write('bytecast-query\t%d.%d.%d\t%s\t%s\t%s\t%s\n' % (
    sys.version_info[0], sys.version_info[1], sys.version_info[2], name, tag,
    binascii.hexlify(m).decode('ascii'), exe))
