# ruff: noqa: UP032, UP034, SIM108 - kept as the stdlib spells it, to diff against it
# mypy: ignore-errors
# (mirrors the untyped standard library compileall line for line; typeshed types its API)
"""Drop-in :mod:`compileall` on the bytecast engine.

``compile_dir``, ``compile_file``, ``compile_path`` and ``main`` have the signatures, defaults,
return values, printed messages and command line of the standard library ``compileall`` of the
running interpreter (3.9 to 3.13; where those differ, this follows the running one)::

    python -m bytecast.compileall -q -j0 /usr/lib/python3/dist-packages

The differences are under the hood:

- Files are compiled by bytecast's pool of fresh worker interpreters, not in this process, so
  the bytes do not depend on the caller's state. ``workers`` other than 1 compiles in
  parallel -- a directory, and also a run of files named on the command line or with ``-i``
  (the standard library compiles those one by one). Messages still come out in the order the
  standard library prints them.
- An up-to-date hash-based .pyc (the invalidation mode asked for, the source hash matching)
  is not compiled again; the standard library always recompiles those (cpython#121577).
- Compiler warnings (``SyntaxWarning``...) are recorded by the worker and replayed here, through
  this process's warning filters and ``showwarning``: what is printed is what the standard
  library prints. When the filters make one an error (``-W error``), the worker's pycs of that
  file are removed and the file is compiled here, to fail with the standard library's error.

When a worker reports a failure, the file is compiled once more in this process, the
standard library's way, so the error printed is exactly the standard library's.
"""

import os
import sys

from bytecast import _dropin, py_compile

__all__ = ["compile_dir", "compile_file", "compile_path"]


def _walk_dir(dir, maxlevels, quiet=0, *, say=print):
    if quiet < 2 and isinstance(dir, os.PathLike):
        dir = os.fspath(dir)
    if not quiet:
        say('Listing {!r}...'.format(dir))
    try:
        names = os.listdir(dir)
    except OSError:
        if quiet < 2:
            say("Can't list {!r}".format(dir))
        names = []
    names.sort()
    for name in names:
        if name == '__pycache__':
            continue
        fullname = os.path.join(dir, name)
        if not os.path.isdir(fullname):
            yield fullname
        elif (maxlevels > 0 and name != os.curdir and name != os.pardir and
              os.path.isdir(fullname) and not os.path.islink(fullname)):
            yield from _walk_dir(fullname, maxlevels=maxlevels - 1,
                                 quiet=quiet, say=say)


def compile_dir(dir, maxlevels=None, ddir=None, force=False,
                rx=None, quiet=0, legacy=False, optimize=-1, workers=1,
                invalidation_mode=None, *, stripdir=None,
                prependdir=None, limit_sl_dest=None, hardlink_dupes=False):
    """Byte-compile all modules in the given directory tree.

    As :func:`compileall.compile_dir`. ``workers`` other than 1 compiles in parallel in
    bytecast's worker pool (0: one worker per CPU). Returns True when every file compiled.
    """
    if ddir is not None and (stripdir is not None or prependdir is not None):
        raise ValueError(("Destination dir (ddir) cannot be used "
                          "in combination with stripdir or prependdir"))
    if ddir is not None:
        stripdir = dir
        prependdir = ddir
        ddir = None
    if workers < 0:
        raise ValueError('workers must be greater or equal to 0')
    if maxlevels is None:
        maxlevels = sys.getrecursionlimit()
    options = dict(stripdir=stripdir, prependdir=prependdir,
                   limit_sl_dest=limit_sl_dest, hardlink_dupes=hardlink_dupes)
    # Even with one worker the whole folder goes to it in batches: one file at a time would
    # wait for the worker once per file (the stdlib compiles in-process, one by one).
    batch = _Batch(workers)
    for file in _walk_dir(dir, quiet=quiet, maxlevels=maxlevels, say=batch.say):
        batch.add(file, ddir, force, rx, quiet, legacy, optimize,
                  invalidation_mode, **options)
    return batch.run()


def compile_file(fullname, ddir=None, force=False, rx=None, quiet=0,
                 legacy=False, optimize=-1,
                 invalidation_mode=None, *, stripdir=None, prependdir=None,
                 limit_sl_dest=None, hardlink_dupes=False):
    """Byte-compile one file.

    As :func:`compileall.compile_file`: returns False when the file could not be compiled.
    """
    job = _prepare(print, fullname, ddir, force, rx, quiet, legacy, optimize,
                   invalidation_mode, stripdir, prependdir, limit_sl_dest, hardlink_dupes)
    if job is None:
        return True
    return job.finish(_dropin.run_one(job.unit(0), job.size))


def compile_path(skip_curdir=1, maxlevels=0, force=False, quiet=0,
                 legacy=False, optimize=-1,
                 invalidation_mode=None):
    """Byte-compile all modules on sys.path.

    As :func:`compileall.compile_path`: stops at the first directory with a failure.
    """
    success = True
    for dir in sys.path:
        if (not dir or dir == os.curdir) and skip_curdir:
            if quiet < 2:
                print('Skipping current directory')
        else:
            success = success and compile_dir(
                dir,
                maxlevels,
                None,
                force,
                quiet=quiet,
                legacy=legacy,
                optimize=optimize,
                invalidation_mode=invalidation_mode,
            )
    return success


def _prepare(say, fullname, ddir, force, rx, quiet, legacy, optimize, invalidation_mode,
             stripdir, prependdir, limit_sl_dest, hardlink_dupes):
    """Everything ``compile_file`` does before compiling; None when there is nothing to do."""
    if ddir is not None and (stripdir is not None or prependdir is not None):
        raise ValueError(("Destination dir (ddir) cannot be used "
                          "in combination with stripdir or prependdir"))

    fullname = os.fspath(fullname)
    stripdir = os.fspath(stripdir) if stripdir is not None else None
    name = os.path.basename(fullname)

    # The baked path has one home (bytecast.paths), with this interpreter's compileall rule.
    from bytecast.paths import baked_path, strips

    version = sys.version_info[:2]
    if stripdir is not None and not strips(fullname, stripdir, version) and quiet < 2:
        say("The stripdir path {!r} is not a valid prefix for "
            "source path {!r}; ignoring".format(stripdir, fullname))
    dfile = None
    if ddir is not None or stripdir is not None or prependdir is not None:
        dfile = baked_path(fullname, name, ddir, stripdir, prependdir, version)

    if isinstance(optimize, int):
        optimize = [optimize]

    # sorted: the files of a source are written in a fixed order (hard links point down)
    optimize = sorted(set(optimize))

    if hardlink_dupes and len(optimize) < 2:
        raise ValueError("Hardlinking of duplicated bytecode makes sense "
                         "only for more than one optimization level")

    if rx is not None:
        mo = rx.search(fullname)
        if mo:
            return None

    if limit_sl_dest is not None and os.path.islink(fullname):
        from pathlib import Path

        if Path(limit_sl_dest).resolve() not in Path(fullname).resolve().parents:
            return None

    try:
        st = os.stat(fullname)
    except (OSError, ValueError):
        return None  # os.path.isfile's answer: not a file
    import stat

    if not stat.S_ISREG(st.st_mode) or name[-3:] != '.py':
        return None
    opt_cfiles = {}
    for opt_level in optimize:
        if legacy:
            opt_cfiles[opt_level] = fullname + 'c'
        else:
            opt_cfiles[opt_level] = py_compile._cache_from_source(fullname, opt_level)

    if not force and _fresh(fullname, opt_cfiles.values(), invalidation_mode):
        return None
    if not quiet:
        say('Compiling {!r}...'.format(fullname))
    return _Job(fullname, dfile, optimize, opt_cfiles, invalidation_mode, quiet,
                hardlink_dupes, st.st_size)


def _fresh(fullname, cfiles, invalidation_mode):
    """True when every .pyc is up to date.

    The standard library's test: each header holds the magic, flags 0 and the source's
    mtime (whatever mode is asked for). Also, unlike the standard library: each is a
    hash-based pyc of the mode asked for, with the source's hash.
    """
    from importlib._bootstrap_external import MAGIC_NUMBER

    try:
        mtime = int(os.stat(fullname).st_mtime)
        expect = MAGIC_NUMBER + bytes(4) + (mtime & 0xFFFF_FFFF).to_bytes(4, 'little')
        heads = []
        for cfile in cfiles:
            with open(cfile, 'rb') as chandle:
                heads.append(chandle.read(16))
        if all(head[:12] == expect for head in heads):
            return True
        if invalidation_mode is None:
            invalidation_mode = py_compile._get_default_invalidation_mode()
        flags = py_compile._flags(invalidation_mode)
        if not flags:
            return False
        # Hash-based pycs: bytecast's one freshness rule (the stdlib has no such test).
        from bytecast.freshness import Rule, stamp
        from bytecast.hashing import source_hash

        rule = Rule(MAGIC_NUMBER, flags)
        st = os.stat(fullname)
        digest = []

        def hashed():
            if not digest:
                digest.append(source_hash(fullname, MAGIC_NUMBER, sys.version_info[:2]))
            return digest[0]

        return all(rule.state(head, stamp(st.st_mtime, st.st_size), hashed) == 'fresh' for head in heads)
    except OSError:
        return False


class _Job:
    """One source to compile and what ``compile_file`` needs to report on it."""

    __slots__ = ("fullname", "dfile", "optimize", "cfiles", "mode", "quiet", "hardlink",
                 "size", "outcome")

    def __init__(self, fullname, dfile, optimize, cfiles, mode, quiet, hardlink, size):
        self.fullname = fullname
        self.dfile = dfile
        self.optimize = optimize
        self.cfiles = cfiles
        self.mode = mode
        self.quiet = quiet
        self.hardlink = hardlink
        self.size = size
        self.outcome = None

    def unit(self, uid):
        """The worker's unit: see :mod:`bytecast.compiler.protocol`."""
        from bytecast.compiler.protocol import Unit

        mode = self.mode
        if mode is None:
            mode = py_compile._get_default_invalidation_mode()
        outputs = tuple((_dropin.optimize_level(level), _dropin.absolute(self.cfiles[level]))
                        for level in self.optimize)
        return Unit(uid, _dropin.absolute(self.fullname), self.dfile or self.fullname,
                    py_compile._flags(mode), bool(self.hardlink), outputs, warnings="show")

    def finish(self, outcome):
        """Report the outcome as ``compile_file`` does; returns its success."""
        error = outcome.failure
        done = outcome.written + outcome.linked  # files the worker wrote before it failed
        if error is None:
            try:
                _dropin.replay(outcome.warnings, self.dfile or self.fullname)
                return True
            except Warning:
                # This process's filters make a warning an error: the standard library's
                # compile fails here and writes nothing. Undo the worker's files, then fail
                # the standard library's way below.
                for level in self.optimize:
                    try:
                        os.unlink(self.cfiles[level])
                    except OSError:
                        pass
                done = 0
        quiet = self.quiet
        if error is not None and error.kind in _dropin.LOST:
            # never repeat here what crashed or hung a worker
            if quiet < 2:
                self._error_header()
                print(error.kind + ':', error.message)
            return False
        # Do the rest the standard library's way, here: its exception is the one to print.
        fullname = self.fullname
        try:
            for index in range(done, len(self.optimize)):
                opt_level = self.optimize[index]
                cfile = self.cfiles[opt_level]
                py_compile._compile_here(fullname, cfile, self.dfile, True,
                                         optimize=opt_level,
                                         invalidation_mode=self.mode)
                if index > 0 and self.hardlink:
                    import filecmp

                    previous_cfile = self.cfiles[self.optimize[index - 1]]
                    if filecmp.cmp(cfile, previous_cfile, shallow=False):
                        os.unlink(cfile)
                        os.link(previous_cfile, cfile)
        except py_compile.PyCompileError as err:
            if quiet >= 2:
                return False
            self._error_header()
            # escape non-printable characters in msg
            encoding = sys.stdout.encoding or sys.getdefaultencoding()
            msg = err.msg.encode(encoding, errors='backslashreplace').decode(encoding)
            print(msg)
            return False
        except (SyntaxError, UnicodeError, OSError) as e:
            if quiet >= 2:
                return False
            self._error_header()
            print(e.__class__.__name__ + ':', e)
            return False
        return True

    def _error_header(self):
        if self.quiet:
            print('*** Error compiling {!r}...'.format(self.fullname))
        else:
            print('*** ', end='')


class _Batch:
    """Files compiled together in the pool, their messages printed in the order they were added."""

    def __init__(self, workers):
        self.jobs = workers if workers > 0 else _dropin.cpus()
        self.items = []  # print() arguments and _Jobs, in output order
        self.done = 0  # items already printed or reported

    def say(self, *args, **kwargs):
        self.items.append((args, kwargs))

    def add(self, fullname, *args, stripdir=None, prependdir=None, limit_sl_dest=None,
            hardlink_dupes=False):
        job = _prepare(self.say, fullname, *args, stripdir, prependdir, limit_sl_dest,
                       hardlink_dupes)
        if job is not None:
            self.items.append(job)

    def run(self):
        """Compile every file added; returns True when all compiled."""
        jobs = [item for item in self.items if isinstance(item, _Job)]
        self.success = True

        def on_outcome(outcome):
            jobs[outcome.uid].outcome = outcome
            self._flush()

        _dropin.run([job.unit(uid) for uid, job in enumerate(jobs)],
                    [job.size for job in jobs], self.jobs, on_outcome)
        self._flush()
        return self.success

    def _flush(self):
        items = self.items
        while self.done < len(items):
            item = items[self.done]
            if isinstance(item, _Job):
                if item.outcome is None:
                    return
                if not item.finish(item.outcome):
                    self.success = False
            else:
                print(*item[0], **item[1])
            self.done += 1


def main():
    """Script main program: the standard library's command line. Returns True on success."""
    import argparse

    parser = argparse.ArgumentParser(
        description='Utilities to support installing Python libraries.')
    parser.add_argument('-l', action='store_const', const=0,
                        default=None, dest='maxlevels',
                        help="don't recurse into subdirectories")
    parser.add_argument('-r', type=int, dest='recursion',
                        help=('control the maximum recursion level. '
                              'if `-l` and `-r` options are specified, '
                              'then `-r` takes precedence.'))
    parser.add_argument('-f', action='store_true', dest='force',
                        help='force rebuild even if timestamps are up to date')
    parser.add_argument('-q', action='count', dest='quiet', default=0,
                        help='output only error messages; -qq will suppress '
                             'the error messages as well.')
    parser.add_argument('-b', action='store_true', dest='legacy',
                        help='use legacy (pre-PEP3147) compiled file locations')
    parser.add_argument('-d', metavar='DESTDIR',  dest='ddir', default=None,
                        help=('directory to prepend to file paths for use in '
                              'compile-time tracebacks and in runtime '
                              'tracebacks in cases where the source file is '
                              'unavailable'))
    parser.add_argument('-s', metavar='STRIPDIR',  dest='stripdir',
                        default=None,
                        help=('part of path to left-strip from path '
                              'to source file - for example buildroot. '
                              '`-d` and `-s` options cannot be '
                              'specified together.'))
    parser.add_argument('-p', metavar='PREPENDDIR',  dest='prependdir',
                        default=None,
                        help=('path to add as prefix to path '
                              'to source file - for example / to make '
                              'it absolute when some part is removed '
                              'by `-s` option. '
                              '`-d` and `-p` options cannot be '
                              'specified together.'))
    parser.add_argument('-x', metavar='REGEXP', dest='rx', default=None,
                        help=('skip files matching the regular expression; '
                              'the regexp is searched for in the full path '
                              'of each file considered for compilation'))
    parser.add_argument('-i', metavar='FILE', dest='flist',
                        help=('add all the files and directories listed in '
                              'FILE to the list considered for compilation; '
                              'if "-", names are read from stdin'))
    parser.add_argument('compile_dest', metavar='FILE|DIR', nargs='*',
                        help=('zero or more file and directory names '
                              'to compile; if no arguments given, defaults '
                              'to the equivalent of -l sys.path'))
    parser.add_argument('-j', '--workers', default=1,
                        type=int, help='Run compileall concurrently')
    invalidation_modes = [mode.name.lower().replace('_', '-')
                          for mode in py_compile.PycInvalidationMode]
    parser.add_argument('--invalidation-mode',
                        choices=sorted(invalidation_modes),
                        help=('set .pyc invalidation mode; defaults to '
                              '"checked-hash" if the SOURCE_DATE_EPOCH '
                              'environment variable is set, and '
                              '"timestamp" otherwise.'))
    parser.add_argument('-o', action='append', type=int, dest='opt_levels',
                        help=('Optimization levels to run compilation with. '
                              'Default is -1 which uses the optimization level '
                              'of the Python interpreter itself (see -O).'))
    parser.add_argument('-e', metavar='DIR', dest='limit_sl_dest',
                        help='Ignore symlinks pointing outsite of the DIR')
    parser.add_argument('--hardlink-dupes', action='store_true',
                        dest='hardlink_dupes',
                        help='Hardlink duplicated pyc files')

    args = parser.parse_args()
    compile_dests = args.compile_dest

    if args.rx:
        import re
        args.rx = re.compile(args.rx)

    if args.limit_sl_dest == "":
        args.limit_sl_dest = None

    if args.recursion is not None:
        maxlevels = args.recursion
    else:
        maxlevels = args.maxlevels

    if args.opt_levels is None:
        args.opt_levels = [-1]

    if len(args.opt_levels) == 1 and args.hardlink_dupes:
        parser.error(("Hardlinking of duplicated bytecode makes sense "
                      "only for more than one optimization level."))

    if args.ddir is not None and (
        args.stripdir is not None or args.prependdir is not None
    ):
        parser.error("-d cannot be used in combination with -s or -p")

    # if flist is provided then load it
    if args.flist:
        encoding = {} if sys.version_info < (3, 10) else {"encoding": "utf-8"}
        try:
            with (sys.stdin if args.flist == '-' else
                    open(args.flist, **encoding)) as f:
                for line in f:
                    compile_dests.append(line.strip())
        except OSError:
            if args.quiet < 2:
                print("Error reading file list {}".format(args.flist))
            return False

    if args.invalidation_mode:
        ivl_mode = args.invalidation_mode.replace('-', '_').upper()
        invalidation_mode = py_compile.PycInvalidationMode[ivl_mode]
    else:
        invalidation_mode = None

    file_options = dict(invalidation_mode=invalidation_mode,
                        stripdir=args.stripdir,
                        prependdir=args.prependdir,
                        optimize=args.opt_levels,
                        limit_sl_dest=args.limit_sl_dest,
                        hardlink_dupes=args.hardlink_dupes)
    success = True
    try:
        if compile_dests:
            # Files named one after another are compiled together when workers are asked
            # for; the standard library compiles them one by one.
            batch = None
            for dest in compile_dests:
                if os.path.isfile(dest):
                    if args.workers == 1:
                        if not compile_file(dest, args.ddir, args.force, args.rx,
                                            args.quiet, args.legacy, **file_options):
                            success = False
                        continue
                    if batch is None:
                        batch = _Batch(args.workers)
                    opts = dict(file_options)
                    batch.add(dest, args.ddir, args.force, args.rx, args.quiet,
                              args.legacy, opts.pop('optimize'),
                              opts.pop('invalidation_mode'), **opts)
                    continue
                if batch is not None:
                    success = batch.run() and success
                    batch = None
                if not compile_dir(dest, maxlevels, args.ddir,
                                   args.force, args.rx, args.quiet,
                                   args.legacy, workers=args.workers,
                                   **file_options):
                    success = False
            if batch is not None:
                success = batch.run() and success
            return success
        else:
            return compile_path(legacy=args.legacy, force=args.force,
                                quiet=args.quiet,
                                invalidation_mode=invalidation_mode)
    except KeyboardInterrupt:
        if args.quiet < 2:
            print("\n[interrupted]")
        return False
    return True


if __name__ == '__main__':
    exit_status = int(not main())
    sys.exit(exit_status)
