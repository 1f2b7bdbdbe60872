"""Discovery: finding the interpreters on this machine, and asking each what it is.

Interpreters are looked for on ``PATH`` (``python3.X``, ``python3``, ``python``), in pyenv's
folder (``$PYENV_ROOT/versions/*``), among uv-managed Pythons (``$UV_PYTHON_INSTALL_DIR``,
default ``~/.local/share/uv/python``), in ``/usr/bin`` and ``/usr/local/bin``, and wherever
the caller names one by path.

Every interpreter is asked about itself at most once a run (all of them at the same time, by
:mod:`bytecast.remote.query`), and the answer is cached in
``$XDG_CACHE_HOME/bytecast/targets.tsv`` keyed by the real path of the binary, its mtime and
its size: a run whose answers are all cached starts no process. A wrapper script (a pyenv
shim: a file that starts with ``#!``) is not a binary: discovery skips it, since the
interpreters it dispatches to are found in their own folders; named by path, it is asked
(uncached, its answer depends on the folder it runs in) and resolved to the real binary it
runs, and that binary is what workers are started with.
"""

from __future__ import annotations

import os
import stat as _stat

from bytecast._frozen import Frozen, init
from bytecast.problem import Problem
from bytecast.targets import Target, current

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["Discovery", "find_interpreters", "cache_file"]


class Discovery(Frozen):
    """What :func:`find_interpreters` found."""

    __slots__ = ("targets", "problems", "named")

    targets: list[Target]
    """One per interpreter binary (links and shims to the same binary appear once)."""
    problems: list[Problem]
    """Candidates that could not be used (they are not targets), one problem each."""
    named: dict[str, Target]
    """The target of each path the caller named (a shim maps to the binary it runs)."""

    def __init__(self, targets: list[Target], problems: list[Problem], named: dict[str, Target]) -> None:
        init(self, "targets", targets)
        init(self, "problems", problems)
        init(self, "named", named)


# --- asking an interpreter about itself ---------------------------------------------------

_CACHE_HEADER = "bytecast-targets\t2\n"


def cache_file() -> str:
    """Where answers are cached: ``$XDG_CACHE_HOME/bytecast/targets.tsv``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bytecast", "targets.tsv")


def _is_script(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return False


def _parse_answer(text: str) -> dict[str, object] | str:
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 6 and parts[0] == "bytecast-query":
            _, release, name, tag, magic, exe = parts
            try:
                major, minor = (int(x) for x in release.split(".")[:2])
                magic_bytes = bytes.fromhex(magic)
            except ValueError:
                break
            if len(magic_bytes) != 4:
                break
            return {"release": release, "version": [major, minor], "implementation": name,
                    "cache_tag": tag, "magic": magic, "executable": exe}
    return "did not answer as a Python interpreter"


def _ask_all(paths: Sequence[str], timeout: float = 20.0) -> dict[str, dict[str, object] | str]:
    """Ask every interpreter in ``paths`` at once; an answer dict, or why it failed."""
    import subprocess

    from bytecast.remote import script_argv

    query = script_argv("query")
    procs = {}
    out: dict[str, dict[str, object] | str] = {}
    for path in paths:
        try:
            procs[path] = subprocess.Popen(
                [path, "-E", "-s", "-S", *query], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", close_fds=True,
            )
        except OSError as exc:
            out[path] = f"cannot run: {exc.strerror or exc}"
    for path, proc in procs.items():
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            out[path] = f"did not answer within {timeout:g} s"
            continue
        if proc.returncode != 0:
            out[path] = f"exited with status {proc.returncode}"
        else:
            out[path] = _parse_answer(stdout.decode("utf-8", "replace"))
    return out


def _target(answer: dict[str, object]) -> Target:
    version = answer["version"]
    tgt = Target(
        version=(int(version[0]), int(version[1])),  # type: ignore[index]
        cache_tag=str(answer["cache_tag"]),
        magic=bytes.fromhex(str(answer["magic"])),
        executable=str(answer["executable"]),
        implementation=str(answer["implementation"]),
        release=str(answer["release"]),
    )
    cur = current()
    if _same_file(tgt.executable, cur.executable) and tgt.magic == cur.magic:
        return cur
    return tgt


def _same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class _Cache:
    """Answers keyed by real path, valid while the binary's mtime and size are the same.

    One line per binary, tab-separated: real path, mtime (ns), size, then the interpreter's
    own answer line (see :mod:`bytecast.remote.query`) or ``!`` and why it is not usable. Plain text, read
    without importing :mod:`json`: a run with ``--target`` reads it before any work.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.path = cache_file()
        self.entries: dict[str, tuple[int, int, str]] = {}
        self.dirty = False
        if enabled:
            try:
                with open(self.path, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, ValueError):
                return
            if not text.startswith(_CACHE_HEADER):
                return
            for line in text[len(_CACHE_HEADER) :].splitlines():
                real, mtime, size, answer = (line.split("\t", 3) + ["", "", ""])[:4]
                if mtime.isdigit() and size.isdigit() and answer:
                    self.entries[real] = (int(mtime), int(size), answer)

    def get(self, real: str, st: os.stat_result) -> dict[str, object] | str | None:
        entry = self.entries.get(real)
        if entry is None or entry[0] != st.st_mtime_ns or entry[1] != st.st_size:
            return None
        answer = entry[2]
        if answer.startswith("!"):
            return answer[1:]
        got = _parse_answer(answer)
        return got if isinstance(got, dict) else None

    def put(self, real: str, st: os.stat_result, answer: dict[str, object] | str) -> None:
        if isinstance(answer, str):
            fields = ["!" + answer]
        else:
            fields = ["bytecast-query"] + [str(answer[k]) for k in
                                           ("release", "implementation", "cache_tag", "magic", "executable")]
        if any(c in field for field in [real, *fields] for c in "\t\n\r"):
            return  # a path the format cannot hold: asked again next time
        self.entries[real] = (st.st_mtime_ns, st.st_size, "\t".join(fields))
        self.dirty = True

    def save(self) -> None:
        if not (self.enabled and self.dirty):
            return
        data = _CACHE_HEADER + "".join(
            f"{real}\t{mtime}\t{size}\t{answer}\n" for real, (mtime, size, answer) in sorted(self.entries.items())
        )
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, self.path)
        except OSError:  # a cache we cannot write only costs time
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _python_name(name: str) -> bool:
    """``python``, ``python3``, ``python3.12``, ``python2.7`` (not ``python3-config``)."""
    if not name.startswith("python"):
        return False
    rest = name[6:]
    if not rest:
        return True
    major, dot, minor = rest.partition(".")
    return major.isdigit() and (not dot or minor.isdigit())


def _candidates(paths: Iterable[str] = (), search: bool = True) -> list[tuple[str, bool]]:
    """Candidate files, each with whether it was named explicitly, in search order (only
    those named when not ``search``)."""
    out: list[tuple[str, bool]] = [(p, True) for p in paths]
    if not search:
        return out
    folders: list[str] = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry:
            folders.append(entry)
    home = os.path.expanduser("~")
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.join(home, ".pyenv")
    uv_root = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), "uv", "python")
    for root in (os.path.join(pyenv_root, "versions"), uv_root):
        try:
            names = sorted(os.listdir(root))
        except OSError:
            continue
        for name in names:
            folders.append(os.path.join(root, name, "bin"))
    folders += ["/usr/local/bin", "/usr/bin"]
    seen: set[str] = set()
    for folder in folders:
        if folder in seen:
            continue
        seen.add(folder)
        try:
            names = [n for n in os.listdir(folder) if _python_name(n)]
        except OSError:
            continue
        for name in sorted(names, key=lambda n: (-len(n), n)):
            out.append((os.path.join(folder, name), False))
    return out


def find_interpreters(paths: Iterable[str] = (), *, cache: bool = True, search: bool = True) -> Discovery:
    """Every interpreter found (see the module docstring), one per binary, in search order.

    ``paths`` are interpreters named by the caller; they come first. Without ``search``,
    only they are asked (the default target of a virtual environment needs no search). The
    running interpreter is always among the results.
    """
    store = _Cache(cache)
    order: list[str] = []  # real paths, in the order first seen
    explicit_problems: list[Problem] = []
    answers: dict[str, dict[str, object] | str] = {}
    stats: dict[str, os.stat_result] = {}
    to_ask: set[str] = set()
    scripts: set[str] = set()
    named_keys: dict[str, str] = {}
    for path, named in _candidates(paths, search):
        try:
            real = os.path.realpath(path)
            st = os.stat(real)
        except OSError as exc:
            if named:
                explicit_problems.append(Problem(path, "TargetError", f"cannot use: {exc.strerror or exc}"))
            continue
        if real in stats:
            if named:
                named_keys[path] = real
            continue
        if not _stat.S_ISREG(st.st_mode) or not os.access(real, os.X_OK):
            if named:
                explicit_problems.append(Problem(path, "TargetError", "not an executable file"))
            continue
        stats[real] = st
        order.append(real)
        if named:
            named_keys[path] = real
        cached = store.get(real, st)  # only binaries are cached: no need to look for "#!"
        if cached is not None:
            answers[real] = cached
        elif _is_script(real):
            if not named:
                continue  # a shim: its interpreters are found in their own folders
            scripts.add(real)  # asked, never cached: its answer depends on where it runs
            to_ask.add(real)
        else:
            to_ask.add(real)
    if to_ask:
        fresh = _ask_all(sorted(to_ask))
        for key, answer in fresh.items():
            answers[key] = answer
            if key not in scripts:
                store.put(key, stats[key], answer)
    store.save()
    targets: list[Target] = []
    problems: list[Problem] = list(explicit_problems)
    by_exe: dict[str, Target] = {}
    listed: set[int] = set()
    by_key: dict[str, Target] = {}
    for key in order:
        got = answers.get(key)
        if got is None:
            continue
        if isinstance(got, str):
            problems.append(Problem(key, "TargetError", got))
            continue
        tgt = _target(got)
        real = os.path.realpath(tgt.executable)
        tgt = by_exe.setdefault(real, tgt)
        by_key[key] = tgt
        if id(tgt) not in listed:  # by_exe hands out one record per binary
            listed.add(id(tgt))
            targets.append(tgt)
    if not any(t.is_current for t in targets):
        targets.insert(0, current())
    by_name = {path: by_key[key] for path, key in named_keys.items() if key in by_key}
    return Discovery(targets, problems, by_name)


