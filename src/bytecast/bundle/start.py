"""How a bundle starts: the ``/bin/sh`` preamble and the archive's ``__main__.py``."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


from bytecast.bundle._format import FORMAT, INDEX_DIR

__all__ = ["preamble", "main_source"]


_SLOT = 12
"""Digits of each offset and size the preamble holds (fixed: the preamble's length must not
depend on the numbers, which depend on it)."""


def preamble(name: str, versions: Sequence[tuple[int, int]], requires: str,
             where: dict[str, tuple[int, int]] | None = None) -> bytes:
    """The ``/bin/sh`` lines before the archive.

    They pick a Python: ``BYTECAST_PYTHON`` if set, else ``python3``, else the newest
    ``python3.X`` on ``PATH`` the bundle holds code for; without any, one line says what is
    needed (exit 2). They start it with ``-I -S`` (nothing of the host's environment,
    site-packages or ``.pth`` files) and a short ``-c`` program that reads this Python's
    index with one seek and one read (``where``: cache tag -> offset and size of the index in
    this file), so a start goes through neither runpy nor zipimport."""
    newest = sorted(set(versions), reverse=True)
    names = " ".join(f"python{v[0]}.{v[1]}" for v in newest)
    held = ", ".join(f"{v[0]}.{v[1]}" for v in sorted(set(versions)))
    needs = f"; Requires-Python {requires}" if requires else ""
    app = _sh_quote(name)
    slots = ",".join(f'"{tag}":({offset:{_SLOT}d},{size:{_SLOT}d})'
                     for tag, (offset, size) in sorted((where or {}).items()))
    program = (
        "import sys\n"
        f"I={{{slots}}}\n"
        "def _b():\n"
        " t=I.get(sys.implementation.cache_tag)\n"
        " if t is None:\n"
        "  import os\n"
        + _handover(" ", newest, app, held, needs, picked=True).replace("'", '"') +
        " f=open(sys.argv[1],\"rb\")\n"
        " f.seek(t[0])\n"
        " d=f.read(t[1])\n"
        " f.close()\n"
        " from marshal import loads\n"
        " x=loads(d)\n"
        " g={\"__name__\":\"bytecast_bundle_boot\",\"__builtins__\":__builtins__}\n"
        " exec(loads(x[\"boot\"]),g)\n"
        " return g[\"main\"](x,sys.argv.pop(1),d)\n"
        "sys.exit(_b())\n"
    )
    text = (
        "#!/bin/sh\n"
        f"# {app}: a bytecast bundle with code for Python {held}\n"
        'p="$BYTECAST_PYTHON"\n'
        f'[ -n "$p" ] || for p in python3 {names} ""; do command -v "$p" >/dev/null 2>&1 && break; done\n'
        f'[ -n "$p" ] || {{ echo "{app}: no Python on PATH that this bundle holds code for (Python {held}{needs})" >&2; exit 2; }}\n'
        f"exec \"$p\" -I -S -c '{program}' \"$0\" \"$@\"\n"
    )
    return text.encode("utf-8")


def _handover(indent: str, newest: Sequence[tuple[int, int]], app: str, held: str, needs: str,
              picked: bool) -> str:
    """Lines of Python for a Python the bundle holds no code for. When the preamble picked it
    (``picked``, and ``BYTECAST_PYTHON`` did not name it), the preamble runs again with the
    newest held ``python3.X`` on ``PATH``; else one line says what the bundle holds, exit 2.
    Expects ``os`` and ``sys`` imported, the bundle's path in ``sys.argv[1]``."""
    names = ", ".join(repr(f"python{v[0]}.{v[1]}") for v in newest)
    i = indent * 2
    lines = ""
    if picked:
        lines = (
            f"{i}if not os.environ.get('BYTECAST_PYTHON'):\n"
            f"{i} me = os.path.realpath(sys.executable)\n"
            f"{i} for name in ({names},):\n"
            f"{i}  for folder in os.environ.get('PATH', '').split(os.pathsep):\n"
            f"{i}   path = os.path.join(folder or '.', name)\n"
            f"{i}   if os.access(path, os.X_OK) and os.path.realpath(path) != me:\n"
            f"{i}    os.environ['BYTECAST_PYTHON'] = path\n"
            f"{i}    os.execv('/bin/sh', ['/bin/sh'] + sys.argv[1:])\n"
        )
    return lines + (
        f"{i}where = '%s %d.%d' % (sys.implementation.name, sys.version_info[0], sys.version_info[1])\n"
        f"{i}sys.stderr.write('{app}: this bundle holds code for Python {held}{needs}, not for %s (%s)\\n' % (where, sys.executable))\n"
        f"{i}return 2\n"
    )


def _sh_quote(text: str) -> str:
    return "".join(c for c in text if c.isalnum() or c in "._-+ ")


def main_source(name: str, versions: Sequence[tuple[int, int]], requires: str) -> bytes:
    """The archive's ``__main__.py``, for ``python app.pyz``: read this Python's index through
    zipimport, run its bootstrap. (Started through the preamble, a bundle never runs it.)"""
    newest = sorted(set(versions), reverse=True)
    held = ", ".join(f"{v[0]}.{v[1]}" for v in sorted(set(versions)))
    needs = f"; Requires-Python {requires}" if requires else ""
    app = _sh_quote(name)
    return (
        f"# {app}: a bytecast bundle (format {FORMAT}); see .bytecast/bundle.json\n"
        "import sys\n\n\n"
        "def _bytecast():\n"
        "    import os\n"
        "    from marshal import loads\n"
        "    try:\n"
        f"        data = __loader__.get_data('{INDEX_DIR}/%s' % sys.implementation.cache_tag)\n"
        "    except (OSError, TypeError, AttributeError):\n"
        + _handover("    ", newest, app, held, needs, picked=False) +
        "    index = loads(data)\n"
        "    space = {'__name__': 'bytecast_bundle_boot', '__builtins__': __builtins__}\n"
        "    exec(loads(index['boot']), space)\n"
        "    return space['main'](index, __loader__.archive, data)\n\n\n"
        "sys.exit(_bytecast())\n"
    ).encode("utf-8")
