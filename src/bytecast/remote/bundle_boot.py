"""The bootstrap of a bytecast bundle: runs inside the app's interpreter at every start.

A bundle is a zip behind a ``/bin/sh`` preamble. Its ``__main__.py`` reads one member,
``.bytecast/<cache tag>``, a marshalled index of plain values made at build time: this code
(compiled for that Python), every module's code (as marshalled bytes), the distributions'
metadata, the files that need a real path, and the entry point. This module is that code; it
is compiled once per target when the bundle is built, never at run time.

What it does, in order:

- takes the archive and the host's site-packages off ``sys.path`` (a bundle sees only what it
  holds and the standard library, as a virtual environment does);
- puts one finder first on ``sys.meta_path``: a module of the bundle is a dict look-up and a
  ``marshal.loads``, no file system call (names of the standard library were left out at
  build time, so the standard library still wins, as in a virtual environment);
- serves the standard-library modules the application loads from the index too, when this
  interpreter is exactly the one the bundle was built with (:func:`_stdlib_table`: the same
  ``sys.version``, cache tag, ``sys.path`` and ``os.py``), each only while its source has the
  size and mtime recorded (importlib's own rule for the stdlib's timestamp pycs): the same code,
  ``__file__``, ``__cached__`` and ``co_filename`` as the path finder gives, one ``stat`` instead of
  its stats, open and read; any other Python, or any other module, goes the normal way;
- files that need a real path (native extensions and their ``.libs``, data files) live in a
  folder per distribution under the user cache, named by the hash of what it holds: written
  once through a temporary name and a rename, each file checked against the size and CRC-32
  recorded at build time, read-only, shared by every app and version holding the same files.
  An unwritable cache falls back to a private temporary folder, removed at exit;
- ``importlib.metadata`` and ``importlib.resources`` see the bundled distributions (the
  metadata finder is built on first use only: importing ``importlib.metadata`` is not free);
- runs the entry point; its result is the process's exit status, as a console script's is.

Syntax: Python 3.9 and later. Only the standard library; nothing is imported at start that
the interpreter has not already imported, except what a feature needs when first used.
"""

import os
import sys
from importlib.machinery import ExtensionFileLoader, ModuleSpec, SourceFileLoader
from marshal import loads

_MODULE, _PACKAGE, _NAMESPACE, _EXTENSION = 0, 1, 2, 3

_YOUNG = 50000
"""With ``--fast-start``, the allocations between two collections of the youngest generation,
once the entry module is imported (CPython's default: 700). A short-lived program then
collects a few times instead of hundreds (bundleapp: 8.9 M instructions of a 260 M start); a
long one holds at most this many objects' worth of garbage cycles more between collections."""


class Damaged(Exception):
    """A file of the bundle is not what its index recorded (a truncated or altered copy)."""


class _Payloads:
    """The folders of the files that need a real path, one per distribution."""

    def __init__(self, index, archive):
        self.archive = archive
        self.reader = None
        self.app = index["name"]
        self.ready = {}
        self.root = None
        self.private = None

    def cache_root(self):
        if self.root is None:
            root = os.environ.get("BYTECAST_CACHE")
            if not root:
                base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
                root = os.path.join(base, "bytecast", "bundles")
            self.root = root
        return self.root

    def folder(self, payload):
        """The folder holding ``payload`` (digest, files), written now if it is not there."""
        digest = payload[0]
        done = self.ready.get(digest)
        if done is not None:
            return done
        final = os.path.join(self.cache_root(), digest)
        try:
            used = os.stat(final).st_mtime
        except OSError:
            try:
                self.extract(payload, self.cache_root())
            except OSError:
                final = self.fallback(payload)
        else:
            if used < _now() - 86400:  # marked used at most once a day: `bytecast cache --prune`
                try:
                    os.utime(final)
                except OSError:
                    pass
        self.ready[digest] = final
        return final

    def fallback(self, payload):
        """A private temporary folder (the cache cannot be written), removed at exit."""
        if self.private is None:
            import atexit
            import tempfile

            self.private = tempfile.mkdtemp(prefix="bytecast-")
            atexit.register(_remove_tree, self.private)
        self.extract(payload, self.private)
        return os.path.join(self.private, payload[0])

    def extract(self, payload, root):
        """Write the files of ``payload`` under ``root``/digest: complete or absent.

        Each file is checked against the size and CRC-32 the index recorded when the bundle
        was built (the zip format's own check, 13 M instructions for PyYAML's 3 MB), not
        sha256: a bundle altered on purpose could alter its index as well, so a stronger hash
        proves nothing more here, and it cost 84 M instructions and loading OpenSSL (5.7 ms)
        on every first run. The folder's name is still the sha256 of what it holds."""
        from zlib import crc32

        digest, files = payload
        if self.reader is None:
            import zipimport

            self.reader = zipimport.zipimporter(self.archive)
        os.makedirs(root, exist_ok=True)
        final = os.path.join(root, digest)
        tmp = "%s.tmp-%d-%s" % (final, os.getpid(), os.urandom(4).hex())
        os.mkdir(tmp, 0o700)
        try:
            folders = set()
            for relpath, member, size, _, mode, crc in files:
                data = self.reader.get_data(member)
                if len(data) != size or crc32(data) != crc:
                    raise Damaged(member)
                path = os.path.join(tmp, relpath)
                parent = os.path.dirname(path)
                if parent not in folders:
                    os.makedirs(parent, exist_ok=True)
                    folders.add(parent)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.chmod(path, 0o555 if mode & 0o111 else 0o444)
            for parent in sorted(folders, key=len, reverse=True):
                if parent != tmp:
                    os.chmod(parent, 0o555)
            os.chmod(tmp, 0o555)
            try:
                os.rename(tmp, final)
            except OSError:
                if not os.path.isdir(final):
                    raise
                _remove_tree(tmp)  # another process finished first: its copy is the same
        except BaseException:
            _remove_tree(tmp)
            raise


def _now():
    import time

    return time.time()


def _remove_tree(path):
    """Remove a folder this bootstrap made read-only (best effort)."""
    for parent, dirs, _ in os.walk(path, topdown=True):
        try:
            os.chmod(parent, 0o700)
        except OSError:
            pass
        for name in dirs:
            try:
                os.chmod(os.path.join(parent, name), 0o700)
            except OSError:
                pass
    import shutil

    shutil.rmtree(path, ignore_errors=True)


class _Resources:
    """``importlib.resources`` for a bundled package: its files in the real folder."""

    def __init__(self, folder):
        self.folder = folder

    def files(self):
        import pathlib

        return pathlib.Path(self.folder)

    def open_resource(self, resource):
        return open(os.path.join(self.folder, resource), "rb")

    def resource_path(self, resource):
        path = os.path.join(self.folder, resource)
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        return path

    def is_resource(self, name):
        return os.path.isfile(os.path.join(self.folder, name))

    def contents(self):
        try:
            return iter(os.listdir(self.folder))
        except OSError:
            return iter(())


class StdlibLoader(SourceFileLoader):
    """A standard-library module whose code the index holds: the path finder's loader for the
    same file (source, ``__file__``, ``__cached__``, resources, ``reload``), but its code is the
    index's, compiled at build time from this very file by this very interpreter's compiler,
    instead of the cached pyc it would stat, open, read and check."""

    def __init__(self, fullname, path, code):
        SourceFileLoader.__init__(self, fullname, path)
        self.code = code

    def get_code(self, fullname):
        if fullname != self.name:
            return SourceFileLoader.get_code(self, fullname)
        return loads(self.code)


def stdlib_guard():
    """What must be equal for a bundle to serve the standard library of its build: the
    interpreter's version string (release, build date, compiler), cache tag, module search
    path, the size and mtime of its ``os.py``, the optimization level (the code is of level 0)
    and ``sys.pycache_prefix`` (where ``__cached__`` points)."""
    folder = getattr(sys, "_stdlib_dir", None) or os.path.dirname(os.__file__)
    probe = os.path.join(folder, "os.py")
    try:
        st = os.stat(probe)
    except OSError:
        return None
    return (sys.version, sys.implementation.cache_tag, tuple(sys.path), probe, st.st_size, st.st_mtime_ns,
            sys.flags.optimize, sys.pycache_prefix)


def _stdlib_table(index):
    """The index's standard-library modules, or an empty table unless this interpreter is
    exactly the one the bundle was built with (:func:`stdlib_guard`)."""
    held = index.get("stdlib")
    if not held or stdlib_guard() != held["guard"]:
        return {}
    return held["modules"]


class BundleFinder:
    """Finds and loads the modules a bundle holds; finds its distributions' metadata."""

    def __init__(self, index, archive, data):
        self.modules = index["modules"]
        size = index["code_size"]
        self.code = memoryview(data)[len(data) - size:]
        """The code of every module, after the index's table: entries hold (offset, size)."""
        self.stdlib = _stdlib_table(index)
        """Standard-library modules served from the index: name -> (is a package, source path,
        (offset, size) of its code, source size, source mtime in ns, ``__cached__``); empty
        unless the guard held."""
        self.dists = index["dists"]
        self.archive = archive
        self.payloads = _Payloads(index, archive)
        self.distribution = None

    # --- where a distribution's files are ---------------------------------------------

    def base(self, dist):
        """The folder a distribution's files appear in: its payload folder when it has files
        that need a real path, else a name inside the archive (as zipimport gives)."""
        payload = self.dists[dist][4] if dist >= 0 else None
        if payload is None:
            return self.archive
        return self.payloads.folder(payload)

    # --- the finder -------------------------------------------------------------------

    def find_spec(self, fullname, path=None, target=None):
        entry = self.modules.get(fullname)
        if entry is None:
            held = self.stdlib.get(fullname)
            return None if held is None else self.stdlib_spec(fullname, path, held)
        kind, relpath, code, dist = entry
        origin = os.path.join(self.base(dist), relpath)
        if kind == _EXTENSION:
            spec = ModuleSpec(fullname, ExtensionFileLoader(fullname, origin), origin=origin)
            spec.has_location = True
            return spec
        if kind == _NAMESPACE:
            spec = ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = [origin]
            return spec
        spec = ModuleSpec(fullname, self, origin=origin, is_package=kind == _PACKAGE)
        spec.has_location = True
        if kind == _PACKAGE:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        return spec

    def stdlib_spec(self, fullname, path, held):
        """The spec the path finder would give for a standard-library module, with the index's
        code; None (the normal way) when its source is not the file it was compiled from."""
        package, origin, code, size, mtime, cached = held
        folder = os.path.dirname(origin)
        if path is not None and folder not in path:
            return None  # its package's __path__ was changed: let the path finder decide
        try:
            st = os.stat(origin)
        except OSError:
            return None
        if st.st_size != size or st.st_mtime_ns != mtime:
            return None
        at, length = code
        loader = StdlibLoader(fullname, origin, self.code[at:at + length])
        spec = ModuleSpec(fullname, loader, origin=origin, is_package=package)
        spec.has_location = True
        spec.cached = cached  # as importlib worked it out at build time, under the same guard
        if package:
            spec.submodule_search_locations = [folder]
        return spec

    def invalidate_caches(self):
        pass

    # --- the loader -------------------------------------------------------------------

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.get_code(module.__spec__.name), module.__dict__)

    def get_code(self, fullname):
        entry = self.modules.get(fullname)
        if entry is None or entry[2] is None:
            raise ImportError("no code for %s in this bundle" % fullname, name=fullname)
        at, size = entry[2]
        return loads(self.code[at:at + size])

    def get_source(self, fullname):
        return None  # a bundle holds bytecode only

    def is_package(self, fullname):
        entry = self.modules.get(fullname)
        return entry is not None and entry[0] == _PACKAGE

    def get_filename(self, fullname):
        entry = self.modules[fullname]
        return os.path.join(self.base(entry[3]), entry[1])

    def get_data(self, path):
        with open(path, "rb") as f:
            return f.read()

    def get_resource_reader(self, fullname):
        entry = self.modules.get(fullname)
        if entry is None or entry[0] != _PACKAGE:
            return None
        return _Resources(os.path.dirname(os.path.join(self.base(entry[3]), entry[1])))

    # --- importlib.metadata -----------------------------------------------------------

    def find_distributions(self, context=None):
        name = getattr(context, "name", None)
        wanted = None if name is None else _normalize(name)
        if self.distribution is None:
            self.distribution = _distribution_class()
        for number, dist in enumerate(self.dists):
            if dist[0] and (wanted is None or _normalize(dist[0]) == wanted):
                yield self.distribution(self, number)


def _normalize(name):
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution_class():
    import importlib.metadata
    import pathlib

    class BundledDistribution(importlib.metadata.Distribution):
        """A distribution held by a bundle: metadata from the index, files where they live."""

        def __init__(self, finder, number):
            self._finder = finder
            self._number = number

        def read_text(self, filename):
            data = self._finder.dists[self._number][3].get(filename)
            return None if data is None else data.decode("utf-8")

        def locate_file(self, path):
            return pathlib.Path(self._finder.base(self._number)) / path

    return BundledDistribution


def _site_builtins():
    """``exit``, ``quit`` and ``help``, which ``site`` adds and some programs call."""
    import builtins

    if hasattr(builtins, "exit"):
        return
    try:
        import _sitebuiltins
    except ImportError:
        return
    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    builtins.help = _sitebuiltins._Helper()


def _host_paths():
    """The host's site-packages folders, which a bundle does not see."""
    site = sys.modules.get("site")
    if site is None:
        return ()
    paths = []
    try:
        paths.extend(site.getsitepackages())
    except AttributeError:
        pass
    user = getattr(site, "USER_SITE", None)
    if user:
        paths.append(user)
    return paths


def install(index, archive, data):
    """Set up the bundle's view of the world (``sys.argv[0]``, ``sys.path``, the builtins of
    ``site``, the finder first on ``sys.meta_path``); returns the finder."""
    archive = os.path.abspath(archive)
    if sys.argv and sys.argv[0] == "-c":
        sys.argv[0] = archive
    hidden = set(_host_paths())
    hidden.update(("", archive))
    sys.path[:] = [p for p in sys.path if p not in hidden and os.path.abspath(p) != archive]
    if "site" not in sys.modules:
        _site_builtins()
    finder = BundleFinder(index, archive, data)
    sys.meta_path.insert(0, finder)
    return finder


def main(index, archive, data):
    """Set up the finder, then run the entry point; returns what ``sys.exit`` gets.

    Started by the bundle's preamble (``python -I -S -c PROGRAM BUNDLE ARGS...``), the
    program has taken the bundle's path out of ``sys.argv``; ``sys.argv[0]`` is ``-c`` here
    and becomes the bundle's path, as a script's path is its ``argv[0]``."""
    install(index, archive, data)
    try:
        return _run(index)
    except Damaged as exc:
        sys.stderr.write("%s: this bundle is damaged (%s is not what its index recorded): "
                         "build or download it again\n" % (index["name"], exc))
        return 2


def _run(index):
    fast = index.get("fast", False)
    kind, module, attribute = index["entry"]
    if kind == "module":
        import runpy

        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    if fast:
        import gc

        gc.disable()
    target = __import__(module, fromlist=["__name__"])
    for part in attribute.split("."):
        target = getattr(target, part)
    if not fast:
        return target()
    gc.freeze()
    gc.set_threshold(_YOUNG)
    gc.enable()
    try:
        status = target()
    except SystemExit as exc:
        status = exc.code
    _fast_exit(status)


def _fast_exit(status):
    """End without tearing the interpreter down: other threads are waited for, exit handlers
    run and the standard streams are flushed, then the process exits (module teardown, the
    last collections and finalizers of objects still alive are skipped)."""
    import atexit

    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    atexit._run_exitfuncs()
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:
        sys.stderr.write("%s\n" % (status,))
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            code = code or 120
    os._exit(code & 0xFF)
