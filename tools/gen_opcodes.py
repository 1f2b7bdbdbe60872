"""Write bytecast's opcode table for the interpreter running this script.

Run it once with each CPython (2.7, 3.6+) to regenerate src/bytecast/opcodes/X.Y.json:

    pythonX.Y tools/gen_opcodes.py src/bytecast/opcodes

Everything comes from that interpreter's own ``opcode`` module, so the tables are exactly what
its ``dis`` uses. Only real opcodes (< 256) are kept: pycs never hold pseudo-instructions, and
specialized (adaptive) opcodes are replaced by their base form when code is marshalled.
There is no 3.14 interpreter here, so 3.14.json was built by hand from a 3.14-development
snapshot of CPython's Lib/_opcode_metadata.py (its "generated_by" field says so); regenerate
it with this script under a real 3.14 when one is available.
The script is standalone and stdlib-only, in syntax Python 2.7 accepts.
"""

# Runs under Python 2.7 too, so it keeps the oldest syntax:
# ruff: noqa: UP031

import json
import os
import sys


def build():
    import opcode

    opmap = dict((name, num) for name, num in opcode.opmap.items() if num < 256)
    specialized = set(getattr(opcode, "_specialized_instructions", ()))
    specialized.update(getattr(opcode, "_specialized_opmap", {}).keys())
    for name in specialized:
        opmap.pop(name, None)
    names = dict((num, name) for name, num in opmap.items())

    def group(attr):
        return sorted(names[n] for n in getattr(opcode, attr, ()) if n in names)

    if hasattr(opcode, "hasarg"):
        hasarg = group("hasarg")
    else:
        hasarg = sorted(name for name, num in opmap.items() if num >= opcode.HAVE_ARGUMENT)

    caches = {}
    entries = getattr(opcode, "_inline_cache_entries", None)
    if isinstance(entries, dict):
        caches = dict((k, v) for k, v in entries.items() if k in opmap and v)
    elif entries is not None:
        caches = dict((names[i], n) for i, n in enumerate(entries) if n and i in names)

    table = {
        "python": "%d.%d" % sys.version_info[:2],
        "generated_by": "tools/gen_opcodes.py from the opcode module of Python %d.%d.%d"
                        % sys.version_info[:3],
        "opmap": dict(sorted(opmap.items(), key=lambda kv: kv[1])),
        "HAVE_ARGUMENT": opcode.HAVE_ARGUMENT,
        "EXTENDED_ARG": opcode.opmap["EXTENDED_ARG"],
        "hasarg": hasarg,
        "hasconst": group("hasconst"),
        "hasname": group("hasname"),
        "hasjrel": group("hasjrel"),
        "hasjabs": group("hasjabs"),
        "haslocal": group("haslocal"),
        "hasfree": group("hasfree"),
        "hascompare": group("hascompare"),
        "hasexc": group("hasexc"),
        "cmp_op": list(opcode.cmp_op),
        "nb_ops": [list(p) for p in getattr(opcode, "_nb_ops", ())],
        "intrinsic1": list(getattr(opcode, "_intrinsic_1_descs", ())),
        "intrinsic2": list(getattr(opcode, "_intrinsic_2_descs", ())),
        "cache_entries": dict(sorted(caches.items())),
    }
    return table


def main(argv):
    outdir = argv[0] if argv else os.path.join("src", "bytecast", "opcodes")
    table = build()
    path = os.path.join(outdir, table["python"] + ".json")
    text = json.dumps(table, indent=1, sort_keys=False, separators=(",", ": "))
    with open(path, "w") as f:
        f.write(text + "\n")
    sys.stdout.write("wrote %s\n" % path)


if __name__ == "__main__":
    main(sys.argv[1:])
