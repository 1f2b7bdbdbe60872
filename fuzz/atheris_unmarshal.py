"""Coverage-guided fuzzing of bytecast's marshal reader, by hand (not part of the test run).

    pip install atheris
    python fuzz/atheris_unmarshal.py -max_total_time=600 -rss_limit_mb=100 -timeout=1 \
        tests/data/fuzz

The first input byte picks the Python version whose semantics are used; the rest is marshal
data. Anything but UnmarshalError escaping from reading (or from disassembling, building the
code tree, finding imports of what was read) is a bug: save the input under tests/data/fuzz
as "<version>-<what>.bin".
"""

import sys

import atheris

with atheris.instrument_imports():
    from bytecast import disasm
    from bytecast.errors import UnmarshalError
    from bytecast.imports import find_imports
    from bytecast.inspect import code_tree
    from bytecast.unmarshal import SUPPORTED_PYTHONS, CodeRecord, loads, walk_code

VERSIONS = [v for v in SUPPORTED_PYTHONS if v[0] == 2 or v >= (3, 6)]


def one_input(data: bytes) -> None:
    if not data:
        return
    version = VERSIONS[data[0] % len(VERSIONS)]
    try:
        value = loads(data[1:], version)
    except UnmarshalError:
        return
    if isinstance(value, CodeRecord):
        code_tree(value)
        find_imports(value)
        for code in walk_code(value)[:50]:
            disasm.instructions(code)
            disasm.exception_entries(code)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
