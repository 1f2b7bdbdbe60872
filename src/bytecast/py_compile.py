# ruff: noqa: UP031 - kept as the stdlib spells it, to diff against it
# mypy: ignore-errors
# (mirrors the untyped standard library py_compile line for line; typeshed types its API)
"""Drop-in :mod:`py_compile` on the bytecast engine.

Same functions, signatures, results, messages and exceptions as the standard library
``py_compile`` of the running interpreter; ``PyCompileError`` and ``PycInvalidationMode`` *are*
the standard library's classes, so ``except py_compile.PyCompileError`` catches ours too.

The compile itself runs in one of bytecast's fresh worker interpreters, so the bytes do not
depend on the state of the calling process. When a worker reports a failure, the file is
compiled once more here, the standard library's way, so that the exception (its type, message,
file name and line) is exactly the one ``py_compile`` raises.
"""

import os
import py_compile as _std  # the standard library's; import bytecast's before aliasing it
import sys

from bytecast import _dropin

if getattr(_std, "__name__", None) != "py_compile":  # pragma: no cover - misuse
    raise ImportError("bytecast.py_compile needs the standard library's py_compile")

__all__ = ["compile", "main", "PyCompileError", "PycInvalidationMode"]

PyCompileError = _std.PyCompileError
PycInvalidationMode = _std.PycInvalidationMode
_get_default_invalidation_mode = _std._get_default_invalidation_mode


def _flags(invalidation_mode):
    """The PEP 552 flags py_compile writes for this mode (anything unknown: unchecked-hash)."""
    if invalidation_mode == PycInvalidationMode.TIMESTAMP:
        return 0
    return 0b11 if invalidation_mode == PycInvalidationMode.CHECKED_HASH else 0b01


def _cache_from_source(file, optimize):
    from importlib.util import cache_from_source

    if optimize >= 0:
        return cache_from_source(file, optimization=optimize if optimize >= 1 else "")
    return cache_from_source(file)


def _refuse_special(cfile):
    """py_compile's refusal to write through a symlink or over a non-regular file."""
    if os.path.islink(cfile):
        msg = ('{} is a symlink and will be changed into a regular file if '
               'import writes a byte-compiled file to it')
        raise FileExistsError(msg.format(cfile))
    elif os.path.exists(cfile) and not os.path.isfile(cfile):
        msg = ('{} is a non-regular file and will be changed into a regular '
               'one if import writes a byte-compiled file to it')
        raise FileExistsError(msg.format(cfile))


def compile(file, cfile=None, dfile=None, doraise=False, optimize=-1,
            invalidation_mode=None, quiet=0):
    """Byte-compile one Python source file to Python bytecode.

    As :func:`py_compile.compile`: returns the path of the .pyc, or None after a compile
    error when ``doraise`` is false (the error is written to stderr unless ``quiet`` is 2);
    raises :class:`PyCompileError` for a compile error when ``doraise`` is true, and
    ``OSError`` (``FileExistsError`` for a symlink or special file at ``cfile``) for I/O errors.
    """
    if invalidation_mode is None:
        invalidation_mode = _get_default_invalidation_mode()
    if cfile is None:
        cfile = _cache_from_source(file, optimize)
    _refuse_special(cfile)
    path = os.fspath(file)
    from bytecast.compiler.protocol import Unit

    unit = Unit(0, _dropin.absolute(path), os.fspath(dfile or file), _flags(invalidation_mode),
                False, ((_dropin.optimize_level(optimize), _dropin.absolute(os.fspath(cfile))),),
                warnings="show")
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # the compile below reports it
    outcome = _dropin.run_one(unit, size)
    error = outcome.failure
    if error is None:
        try:
            _dropin.replay(outcome.warnings, os.fspath(dfile or file))  # as the stdlib's compile shows them
            return cfile
        except Warning:  # this process makes it an error: fail here, the stdlib's way
            try:
                os.unlink(cfile)
            except OSError:
                pass
            return _compile_here(file, cfile, dfile, doraise, optimize, invalidation_mode, quiet)
    if error.kind in _dropin.LOST:
        # never repeat here what crashed or hung a worker: report it as a compile error
        exc = RuntimeError(error.message)
        return _failed(PyCompileError(RuntimeError, exc, dfile or file), doraise, quiet)
    return _compile_here(file, cfile, dfile, doraise, optimize, invalidation_mode, quiet)


def _failed(py_exc, doraise, quiet):
    if quiet < 2:
        if doraise:
            raise py_exc
        else:
            sys.stderr.write(py_exc.msg + '\n')
    return None


def _compile_here(file, cfile=None, dfile=None, doraise=False, optimize=-1,
                  invalidation_mode=None, quiet=0):
    """The standard library's ``py_compile.compile``, in this process.

    Runs only after a worker reported a failure, to raise exactly the standard library's
    exception for it (it writes the file if the failure does not happen again).
    """
    import importlib._bootstrap_external as _bootstrap_external
    import importlib.machinery
    import importlib.util

    if invalidation_mode is None:
        invalidation_mode = _get_default_invalidation_mode()
    if cfile is None:
        cfile = _cache_from_source(file, optimize)
    _refuse_special(cfile)
    loader = importlib.machinery.SourceFileLoader('<py_compile>', file)
    source_bytes = loader.get_data(file)
    try:
        code = loader.source_to_code(source_bytes, dfile or file,
                                     _optimize=optimize)
    except Exception as err:
        return _failed(PyCompileError(err.__class__, err, dfile or file), doraise, quiet)
    try:
        dirname = os.path.dirname(cfile)
        if dirname:
            os.makedirs(dirname)
    except FileExistsError:
        pass
    if invalidation_mode == PycInvalidationMode.TIMESTAMP:
        source_stats = loader.path_stats(file)
        bytecode = _bootstrap_external._code_to_timestamp_pyc(
            code, source_stats['mtime'], source_stats['size'])
    else:
        source_hash = importlib.util.source_hash(source_bytes)
        bytecode = _bootstrap_external._code_to_hash_pyc(
            code,
            source_hash,
            (invalidation_mode == PycInvalidationMode.CHECKED_HASH),
        )
    mode = _bootstrap_external._calc_mode(file)
    _bootstrap_external._write_atomic(cfile, bytecode, mode)
    return cfile


if sys.version_info >= (3, 10):

    def main():
        """Compile the files named on the command line (``-`` reads names from stdin)."""
        import argparse

        description = 'A simple command-line interface for py_compile module.'
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument(
            '-q', '--quiet',
            action='store_true',
            help='Suppress error output',
        )
        parser.add_argument(
            'filenames',
            nargs='+',
            help='Files to compile',
        )
        args = parser.parse_args()
        if args.filenames == ['-']:
            filenames = [filename.rstrip('\n') for filename in sys.stdin.readlines()]
        else:
            filenames = args.filenames
        for filename in filenames:
            try:
                compile(filename, doraise=True)
            except PyCompileError as error:
                if args.quiet:
                    parser.exit(1)
                else:
                    parser.exit(1, error.msg)
            except OSError as error:
                if args.quiet:
                    parser.exit(1)
                else:
                    parser.exit(1, str(error))

else:

    def main(args=None):
        """Compile several source files (``args`` or the command line; ``-`` reads stdin).

        Returns 1 when any file failed, else 0.
        """
        if args is None:
            args = sys.argv[1:]
        rv = 0
        if args == ['-']:
            while True:
                filename = sys.stdin.readline()
                if not filename:
                    break
                filename = filename.rstrip('\n')
                try:
                    compile(filename, doraise=True)
                except PyCompileError as error:
                    rv = 1
                    sys.stderr.write("%s\n" % error.msg)
                except OSError as error:
                    rv = 1
                    sys.stderr.write("%s\n" % error)
        else:
            for filename in args:
                try:
                    compile(filename, doraise=True)
                except PyCompileError as error:
                    # return value to indicate at least one failure
                    rv = 1
                    sys.stderr.write("%s\n" % error.msg)
        return rv


if __name__ == "__main__":
    if sys.version_info >= (3, 10):
        main()
    else:
        sys.exit(main())
