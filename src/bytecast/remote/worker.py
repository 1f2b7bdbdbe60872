# -*- coding: utf-8 -*-
"""Compile one source into .pyc files: the code every compile worker runs.

This file is standalone and uses only the standard library, in syntax every supported target
understands (Python 2.7 and 3.6+): every interpreter, the running one too, runs it as a
script (see ``main``), so every target compiles with exactly the same rules, those of its
own ``py_compile``.

Workers are fresh interpreters running this file (never forks of a busy process): marshal
marks a string "interned" by the state of the whole process, so a compile is reproducible
only in a process whose state does not depend on what ran before it.

A *unit* is one source and the .pyc files to make of it (the parent encodes it, see
:mod:`bytecast.compiler.protocol`)::

    [unit_id, path, dfile, flags, hardlink_dupes, [[optimize, cfile], ...], give_back, warnings, facts]

``flags`` is the PEP 552 flags word: 0 timestamp, 1 unchecked-hash, 3 checked-hash. With
``give_back`` false the worker writes each pyc to its ``cfile`` (atomically: the
``__pycache__`` layout, where writing here keeps a cold compile at the machine's limit);
with ``give_back`` true it writes nothing and sends the bytes back (layouts that place them
elsewhere: a zip, a wheel). ``warnings`` (optional, default ``ignore``) says what to do with
the compiler's warnings (``SyntaxWarning: invalid escape sequence``...): ``ignore`` them,
``show`` them (send them back), or make them an ``error`` of the file, as ``-W error`` does:
the file fails at its first warning and none of its pycs is written. With ``facts`` true
(optional, and ``give_back``) it also sends what the code it compiled names with each blob
(see :func:`code_facts`). It does not ``marshal.loads`` its own bytes to check them: on 3.13
that changes the bytes of modules it compiles after (2 of flask's 131, no longer what a fresh
``py_compile`` writes).

An *outcome* is ``[unit_id, written, linked, error, blobs, warnings]``: ``error`` is ``None``
or ``[kind, message, line, column]``, ``blobs`` ``None`` or ``[[optimize, pyc_bytes], ...]``
(with ``facts``: ``[[optimize, pyc_bytes, [names, strings]], ...]``), ``warnings`` ``None`` or
``[[category, message, line, column], ...]`` (each once, in the order the compiler gave them;
column 0: the warnings module gives none).

The worker ends quietly, without a traceback, however its parent goes: end of input, a
closed pipe (the parent was killed), an interrupt (Ctrl-C reaches the whole process group).
"""

import sys

if __name__ == "__main__" and not getattr(sys.flags, "isolated", 0):
    # Started without -I (see bytecast.compiler.isolated_command): sys.path begins with this
    # script's folder, bytecast's own package, whose modules must never shadow the stdlib's.
    del sys.path[0]

import marshal
import os
import stat
import struct
import time
import warnings

try:
    # the frozen module already loaded at start-up; importlib.util would cost an import
    from importlib._bootstrap_external import MAGIC_NUMBER
except ImportError:  # Python 2.7
    import imp

    MAGIC_NUMBER = imp.get_magic()

try:
    from _imp import source_hash as _source_hash
except ImportError:  # before 3.7: no hash-based pycs
    _source_hash = None

_PY3 = sys.version_info[0] >= 3
_RAW_MAGIC = struct.unpack("<I", MAGIC_NUMBER)[0]
if sys.version_info >= (3, 7):
    _HEADER = "16"
elif sys.version_info >= (3, 3):
    _HEADER = "12"
else:
    _HEADER = "8"


def _u32(value):
    return struct.pack("<I", int(value) & 0xFFFFFFFF)


def header(flags, mtime, size, source):
    """The header CPython's py_compile writes for these inputs on this interpreter."""
    if _HEADER == "16":
        if flags & 1:
            return MAGIC_NUMBER + _u32(flags) + _source_hash(_RAW_MAGIC, source)
        return MAGIC_NUMBER + _u32(0) + _u32(mtime) + _u32(size)
    if _HEADER == "12":
        return MAGIC_NUMBER + _u32(mtime) + _u32(size)
    return MAGIC_NUMBER + _u32(mtime)


def write_atomic(path, data, mode):
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Refuses to write through a symbolic link or over anything that is not a regular file,
    as py_compile does. Creates the folder (``__pycache__``) when it is missing.
    """
    try:
        st = os.lstat(path)
    except OSError:
        pass
    else:
        if not stat.S_ISREG(st.st_mode):
            kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            raise _Refused("%s is %s; not writing bytecode there" % (path, kind))
    tmp = "%s.%d.tmp" % (path, os.getpid())
    flags = os.O_EXCL | os.O_CREAT | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    folder = os.path.dirname(path)
    if folder not in _swept:
        _swept.add(folder)
        sweep(folder)
    for attempt in (0, 1, 2):
        try:
            fd = os.open(tmp, flags, mode & 0o666)
            break
        except OSError as exc:
            if attempt == 2:
                raise
            if exc.errno == _ENOENT:
                _makedirs(os.path.dirname(path))
            elif exc.errno == _EEXIST:
                os.unlink(tmp)  # left by a killed run of a process with our pid
            else:
                raise
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.close(fd)
        fd = -1
        _replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_swept = set()


def sweep(folder):
    """Remove the temporary files that killed writers left in ``folder`` (``NAME.pyc.PID.tmp``
    whose process is gone), once per folder and worker: a later compile cleans up after a
    killed one. A file whose PID is alive is another writer's, at work: it stays; so does one
    younger than a minute (a writer in another PID namespace or on another host sharing the
    folder has a PID this one cannot see, and its temporary file lives for milliseconds)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    now = time.time()
    for name in names:
        if not name.endswith(".tmp") or ".pyc." not in name:
            continue
        pid = name[:-4].rpartition(".")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if now - os.lstat(os.path.join(folder, name)).st_mtime < 60:
                continue
        except OSError:
            continue
        try:
            os.kill(int(pid), 0)
        except OverflowError:
            continue  # no process can have that number: not a leftover of ours
        except OSError as exc:
            if exc.errno != _errno.ESRCH:
                continue  # alive (or not ours to ask): left alone
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def link_atomic(existing, path):
    """Make ``path`` a hard link to ``existing``, atomically replacing what was there."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        os.unlink(tmp)
    except OSError:
        pass
    os.link(existing, tmp)
    try:
        _replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _linked(existing, path):
    """Link ``path`` to ``existing``; False when ``existing`` is gone (removed by a concurrent
    clean since it was written): the caller writes the file instead."""
    try:
        link_atomic(existing, path)
    except EnvironmentError as exc:
        if exc.errno == _ENOENT:
            return False
        raise
    return True


class _Refused(Exception):
    pass


import errno as _errno

_ENOENT = _errno.ENOENT
_EEXIST = _errno.EEXIST
_replace = getattr(os, "replace", os.rename)  # 2.7 has no os.replace; rename is atomic on POSIX


def _makedirs(folder):
    try:
        os.makedirs(folder)
    except OSError as exc:
        if exc.errno != _EEXIST:
            raise


def _error(exc, path):
    kind = type(exc).__name__
    if isinstance(exc, SyntaxError):
        msg = exc.msg if exc.msg is not None else str(exc)
        return [_text(kind), _text(msg), exc.lineno or 0, exc.offset or 0]
    if isinstance(exc, _NotAFile):
        return [u"OSError", _text(exc.strerror), 0, 0]
    if isinstance(exc, EnvironmentError):
        return [_text(kind), _text(exc.strerror or str(exc)), 0, 0]
    if isinstance(exc, _Refused):
        return [u"FileExistsError", _text(str(exc)), 0, 0]
    return [_text(kind), _text(str(exc) or kind), 0, 0]


def _text(value):
    """Text for the outcome: Python 2's byte strings would reach the pool as bytes."""
    if isinstance(value, bytes) and _PY3 is False:
        return value.decode("utf-8", "replace")
    return value


def _native_path(path):
    """Python 2 compiles and opens byte-string paths, as its py_compile is given them.

    The parent's paths are text, where a byte that is not UTF-8 in a file name stands as a
    lone surrogate U+DC80-U+DCFF (surrogateescape): it becomes that byte again here.
    """
    if _PY3 or isinstance(path, bytes):
        return path
    encoding = sys.getfilesystemencoding() or "utf-8"
    out = []
    for c in path:
        if u"\udc80" <= c <= u"\udcff":
            out.append(chr(ord(c) - 0xDC00))
        else:
            out.append(c.encode(encoding))
    return b"".join(out)


# O_NONBLOCK: opening a FIFO must not wait for a writer (the file type is checked next).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


class _NotAFile(EnvironmentError):
    pass


def read_source(path):
    """The bytes and stat of the file at ``path``, read from one descriptor.

    Refuses what is not a regular file (a FIFO, a device) without blocking on it, and reads
    again when the file changed while it was read (its size or mtime before and after differ),
    so the header never records a stat that does not belong to the bytes compiled.
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        for _ in range(3):
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise _NotAFile(0, "not a regular file")
            os.lseek(fd, 0, 0)
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            after = os.fstat(fd)
            if after.st_mtime == before.st_mtime and after.st_size == before.st_size:
                return b"".join(chunks), after
        raise _NotAFile(0, "the file kept changing while it was read")
    finally:
        os.close(fd)


_TEXT = type(u"")


def code_facts(code):
    """``[names, strings]`` of a module's code and every code object nested in it: each name it
    uses (text), and each text constant ending in ``py`` (what a sourceless conversion asks: which
    ``.py`` files the code names, whether it compares ``__file__`` with ``'.py'``), sorted."""
    names = set()
    strings = set()
    todo = [code]
    while todo:
        co = todo.pop()
        names.update(co.co_names)
        for const in co.co_consts:
            if isinstance(const, _TEXT):
                if const.endswith(u"py"):
                    strings.add(const)
            elif hasattr(const, "co_consts"):
                todo.append(const)
    return [sorted(_text(n) for n in names), sorted(strings)]


def compile_unit(unit):
    """Compile one unit and write (or give back) its files; returns the outcome (never raises
    on bad input)."""
    unit_id, path, dfile, flags, hardlink, outputs, give_back = unit[:7]
    policy = unit[7] if len(unit) > 7 else u"ignore"
    noted = None if policy == u"ignore" else []
    facts = give_back and len(unit) > 8 and unit[8]
    if not _PY3:
        path = _native_path(path)
        dfile = dfile and _native_path(dfile)
        outputs = [[opt, cfile and _native_path(cfile)] for opt, cfile in outputs]
    try:
        source, st = read_source(path)
    except EnvironmentError as exc:
        return [unit_id, 0, 0, _error(exc, path), None, None]
    # importlib's _calc_mode: the source's mode, always writable by the owner.
    mode = stat.S_IMODE(st.st_mode) | 0o200
    written = linked = 0
    previous = None
    blobs = [] if give_back else None
    try:
        head = header(flags, st.st_mtime, st.st_size, source)
        for optimize, cfile in outputs:
            if noted is None:
                code = _compile(source, dfile or path, optimize)
            else:
                code = _compile_noted(source, dfile or path, optimize, noted)
                if noted and policy == u"error":  # -W error: the file fails, nothing more is written
                    return [unit_id, written, linked, noted[0], None, noted[1:] or None]
            data = head + marshal.dumps(code)
            if facts:
                blobs.append([optimize, data, code_facts(code)])
            elif blobs is not None:
                blobs.append([optimize, data])
            elif hardlink and previous is not None and previous[1] == data and _linked(previous[0], cfile):
                linked += 1
            else:
                write_atomic(cfile, data, mode)
                written += 1
            previous = (cfile, data)
            del code
    except Exception as exc:  # every failure is reported for this file; the others go on
        return [unit_id, written, linked, _error(exc, path), None, noted or None]
    return [unit_id, written, linked, None, blobs, noted or None]


def _compile_noted(source, dfile, optimize, noted):
    """``_compile``, adding the warnings it gives to ``noted`` (each once: the levels of a
    source give the same ones)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = _compile(source, dfile, optimize)
    for item in caught:
        args = getattr(item.message, "args", ())
        text = args[0] if args and isinstance(args[0], (str, bytes, type(u""))) else str(item.message)
        entry = [_text(item.category.__name__), _text(text), item.lineno or 0, 0]
        if entry not in noted:
            noted.append(entry)
    return code


if _PY3:

    def _compile(source, dfile, optimize):
        return compile(source, dfile, "exec", dont_inherit=True, optimize=optimize)

else:  # pragma: no cover - Python 2.7, run by a foreign worker

    def _compile(source, dfile, optimize):
        # 2.7's py_compile reads the source in "U" mode: universal newlines, no decoding.
        # Its optimization level is the process's (-O, -OO), not an argument: the pool starts
        # one kind of 2.7 worker per level.
        source = source.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return compile(source, dfile, "exec", 0, True)


def _read_exact(stream, size):
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def hash_file(path):
    """The source hash this interpreter records for the file at ``path``; None if unreadable."""
    if _source_hash is None:
        return None
    try:
        data = read_source(path)[0]
    except EnvironmentError:
        return None
    return _source_hash(_RAW_MAGIC, data)


def main(argv=None):
    """Serve requests: length-prefixed marshal (version 2) lists in, answers out.

    By default each request is a list of units and one outcome per unit is written. With
    ``hash`` as the argument each request is a list of paths and the answer one list of
    their source hashes (``None`` for a file that cannot be read): planning uses it for
    targets whose hash function the running interpreter does not have. With ``load`` each
    request is a list of marshal payloads (what follows a pyc header) and the answer one list
    of ``None`` (one code object) or why not: the check of bytes a compile worker of this
    interpreter made, by another process of it (the worker itself never loads its own output:
    what it holds would change the bytes of the next file's marshal).
    """
    # Compiler warnings change no byte of the output; keep them off the pipe and never let an
    # inherited "-W error" turn them into failures: a unit that wants them records them.
    warnings.simplefilter("ignore")
    try:
        return serve(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return 130  # Ctrl-C reached the whole process group: the parent says it once
    except EnvironmentError as exc:
        if exc.errno in (_errno.EPIPE, _errno.EBADF):
            return 0  # the parent is gone (killed): nobody to answer
        raise


def load_check(body):
    """None when ``body`` is one code object of this interpreter's marshal, else why not."""
    try:
        code = marshal.loads(body)
    except Exception as exc:  # EOFError, ValueError, TypeError: bad marshal data
        return "%s: %s" % (type(exc).__name__, exc)
    if type(code) is not _CODE_TYPE:
        return "holds a %s, expected a code object" % type(code).__name__
    return None


_CODE_TYPE = type(compile("", "", "exec"))


def serve(argv):
    """The request loop of :func:`main`."""
    hashing = argv[:1] == ["hash"]
    loading = argv[:1] == ["load"]
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    stdout = getattr(sys.stdout, "buffer", sys.stdout)
    while True:
        head = _read_exact(stdin, 4)
        if head is None:
            return 0
        payload = _read_exact(stdin, struct.unpack("<I", head)[0])
        if payload is None:
            return 0
        if hashing or loading:
            answer = [hash_file(p) if hashing else load_check(p) for p in marshal.loads(payload)]
            data = marshal.dumps(answer, 2)
            stdout.write(struct.pack("<I", len(data)) + data)
            stdout.flush()
            continue
        for unit in marshal.loads(payload):
            data = marshal.dumps(compile_unit(unit), 2)
            stdout.write(struct.pack("<I", len(data)) + data)
            stdout.flush()


if __name__ == "__main__":
    _status = main()
    try:
        sys.stdout.flush()
    except EnvironmentError:
        pass
    # os._exit: nothing left to flush may raise at shutdown once the parent is gone
    os._exit(_status)
