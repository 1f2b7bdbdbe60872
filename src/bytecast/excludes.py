"""Excludes: gitignore patterns, decided as git decides them, for ``-x`` and ``.gitignore`` files.

One syntax for both (git's gitignore rules): ``#`` starts a comment; trailing spaces are dropped
unless escaped (``\\ ``); a backslash makes the next character literal (``\\#``, ``\\!``, ``\\*``);
``!`` re-includes what an earlier pattern excluded (never below an excluded folder: that folder is
not entered); a trailing ``/`` matches folders only; a ``/`` at the start or in the middle anchors
the pattern at the folder its list belongs to (the walked root for ``-x``), else it matches a name
at any depth; ``*``, ``?`` and ``[...]`` (ranges, ``!``/``^`` negation, ``[:alpha:]`` classes) stay
inside one path part; ``**`` between slashes spans parts. The last pattern that matches decides.
Matching is on the bytes of the path and case-sensitive, as git does on POSIX.

For ``-x`` a pattern that cannot match anything (empty, a comment, a class never closed or with
no character in it, a lone trailing backslash, two slashes in a row) or that reads as a regular
expression (``^foo``, ``.*test.*\\.py$``: compileall's ``-x`` takes those) is a
:class:`UsageError`; in a ``.gitignore`` file such a line is skipped, as git skips it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Sequence
    from typing import Any, Callable, Union

    Matcher = Callable[[str, bool], bool]

from bytecast.errors import UsageError

__all__ = ["compile_excludes", "Rules", "parse_lines", "read_ignore_file", "repo_excludes", "decide", "Frames"]

Frames = tuple[tuple[int, "Rules"], ...]
"""The ignore files that apply to a folder, outermost first: (length of the folder's path
relative to the work tree, with its ``/``; that file's rules)."""

_MAX_FILE = 100 * 1024 * 1024  # git skips an ignore file larger than this
_cache: dict[tuple[str, ...], Matcher] = {}


class _Unmatchable(ValueError):
    """A pattern no path can match; the message says why."""


class _Reversed(ValueError):
    """A range written backwards (``[z-a]``): git reads it as its first character alone."""


def compile_excludes(patterns: Sequence[str]) -> Matcher | None:
    """``match(relpath, is_dir)`` for the ``-x`` patterns; None when there are none.

    ``relpath`` is relative to the walked root. Raises :class:`UsageError` (field ``excludes``)
    for a pattern that cannot match anything or that reads as a regular expression.
    """
    if not patterns:
        return None
    key = tuple(patterns)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    lines: list[bytes] = []
    for pattern in patterns:
        hint = _regex_hint(pattern)
        if hint is not None:
            raise UsageError(f"exclude pattern {pattern!r} looks like a regular expression; excludes are "
                             f"gitignore-style globs{hint}", "excludes")
        line = _trim(os.fsencode(pattern))
        try:
            if not line or line.startswith(b"#"):
                raise _Unmatchable("is empty" if not line else "is a comment (write \\# for a name starting with #)")
            _parse(line, strict=True)
        except _Unmatchable as exc:
            raise UsageError(f"exclude pattern {pattern!r} cannot match anything: it {exc}", "excludes") from None
        except _Reversed as exc:
            raise UsageError(f"exclude pattern {pattern!r} is not a valid glob: range {exc} is reversed (git "
                             f"would read it as {str(exc)[0]!r} alone)", "excludes") from None
        lines.append(line)
    rules = Rules(lines)
    negative = rules.negative
    sep = os.sep

    def match(relpath: str, is_dir: bool) -> bool:
        rel = os.fsencode(relpath.replace(sep, "/") if sep != "/" else relpath)
        index = rules.decide(rel, rel[rel.rfind(b"/") + 1:], is_dir)
        return index >= 0 and not negative[index]

    _cache[key] = match
    return match


def _regex_hint(pattern: str) -> str | None:
    """None for a glob; else the end of the message: a glob that says what the regex meant."""
    body = pattern.strip()
    looks = body.startswith("^") or (body.endswith("$") and not body.endswith("\\$")) or \
        any(esc in body for esc in ("\\.", "\\d", "\\w", "\\s", ".+", "(?", ".*\\"))
    if not looks:
        return None
    glob = body[1:] if body.startswith("^") else body
    glob = glob[:-1] if glob.endswith("$") else glob
    for regex, wild in ((".*", "*"), (".+", "?*"), ("\\.", ".")):
        glob = glob.replace(regex, wild)
    if body.startswith("^"):
        glob = "/" + glob.lstrip("/")  # anchored at the start of the path
    elif not glob.startswith("*"):
        glob = "*" + glob
    if not body.endswith("$") and not glob.endswith("*"):
        glob += "*"
    if any(c in glob for c in "()|+{}\\$^"):
        return ", such as '*.py' or 'tests/'"
    return f", such as {glob!r}"


def _trim(line: bytes) -> bytes:
    """The line without its trailing spaces, unless escaped (git's rule, byte for byte)."""
    last_space = -1
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == 0x20:
            if last_space < 0:
                last_space = i
        elif c == 0x5C:  # a backslash escapes the next byte; one at the very end keeps all
            i += 1
            if i >= n:
                return line
            last_space = -1
        else:
            last_space = -1
        i += 1
    return line[:last_space] if last_space >= 0 else line


def parse_lines(data: bytes) -> list[bytes]:
    """The patterns of an ignore file's bytes, one a line (so that an index is a line number
    less one): comments and blank lines as empty patterns; a UTF-8 BOM, CRs before line ends
    and unescaped trailing spaces dropped, as git reads them."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines: list[bytes] = []
    for line in data.split(b"\n"):
        if line.startswith(b"#"):
            line = b""
        elif line.endswith(b"\r"):
            line = line[:-1]
        nul = line.find(b"\0")
        if nul >= 0:  # git reads each line as a C string
            line = line[:nul]
        lines.append(_trim(line))
    return lines


class Rules:
    """The compiled patterns of one list (a ``.gitignore`` file, or the ``-x`` patterns).

    Patterns that cannot match anything are left out, as git leaves them; indexes still count
    them, so :meth:`decide` answers with the pattern's place in the list.
    """

    __slots__ = ("negative", "count", "_files", "_folders")

    negative: list[bool]
    """For each pattern, whether it re-includes (``!``)."""

    def __init__(self, lines: Sequence[bytes]) -> None:
        self.negative = []
        self.count = len(lines)
        parsed: list[tuple[int, bool, _Pattern]] = []
        for index, line in enumerate(lines):
            try:
                negative, dir_only, pattern = _parse(line)
            except _Unmatchable:
                self.negative.append(False)
                continue
            self.negative.append(negative)
            parsed.append((index, dir_only, pattern))
        self._files = _Compiled([(i, p) for i, dir_only, p in parsed if not dir_only])
        self._folders = _Compiled([(i, p) for i, _, p in parsed])

    def decide(self, rel: bytes, name: bytes, is_dir: bool) -> int:
        """The index of the last pattern matching ``rel`` (``/``-separated, relative to the
        list's folder; ``name`` is its last part), or -1 when none does."""
        c = self._folders if is_dir else self._files
        best = c.names.get(name, -1) if c.names else -1
        if c.paths:
            index = c.paths.get(rel, -1)
            if index > best:
                best = index
        if c.suffixes and name.endswith(c.suffixes):
            for suffix, index in c.suffix_index:
                if index > best and name.endswith(suffix):
                    best = index
        for index, segments, size, at, allowed in c.globs:  # last first: the first that matches is the last
            if index <= best:
                break
            if len(name) < size or (allowed is not None and name[at] not in allowed):
                continue  # too short, or a fixed end differs: most names stop here
            if _glob_match(segments, name):
                best = index
                break
        if c.path_globs and rel.startswith(c.prefixes):
            regex = c.path_regex or c.compile_paths()
            m = regex.match(rel)
            if m is not None and c.path_groups[m.lastindex or 0] > best:
                best = c.path_groups[m.lastindex or 0]
        return best


class _Compiled:
    """The patterns that apply to files, or to folders, by how they are matched: plain names
    and paths are dict lookups, ``*`` and a plain ending (``*.so``) one ``bytes.endswith`` for
    all of them (most lines of a ``.gitignore`` are of these kinds), other names a small
    matcher that fails at the first byte of either fixed end, and paths with wildcards one
    regex, compiled (and :mod:`re` imported, ~5 ms) only when a path starts with the plain part
    of one of them."""

    __slots__ = ("names", "paths", "suffixes", "suffix_index", "globs", "path_globs", "prefixes", "path_regex",
                 "path_groups")

    def __init__(self, patterns: list[tuple[int, _Pattern]]) -> None:
        self.names = {p[1]: i for i, p in patterns if p[0] == _NAME}  # later ones overwrite: the last wins
        self.paths = {p[1]: i for i, p in patterns if p[0] == _PATH}
        self.suffix_index = [(p[1], i) for i, p in patterns if p[0] == _SUFFIX]
        self.suffixes = tuple(s for s, _ in self.suffix_index)
        self.globs = [(i, *_quick(_segments(p[1]))) for i, p in reversed(patterns) if p[0] == _GLOB]
        self.path_globs = [(i, p[1]) for i, p in patterns if p[0] == _PATH_GLOB]
        self.prefixes = tuple(bytes(_literal_head(atoms)) for _, atoms in self.path_globs)
        self.path_regex: re.Pattern[bytes] | None = None
        self.path_groups: list[int] = []

    def compile_paths(self) -> re.Pattern[bytes]:
        import re

        chosen = list(reversed(self.path_globs))
        regex = b"|".join(b"(" + _render(atoms) + b")" for _, atoms in chosen)
        self.path_regex = re.compile(b"(?:" + regex + b")\\Z", re.DOTALL)
        self.path_groups = [-1] + [i for i, _ in chosen]
        return self.path_regex


_SPECIAL = b"*?[\\"
_NAME, _PATH, _SUFFIX, _GLOB, _PATH_GLOB = range(5)
_STAR, _ANY, _DIRS = -1, -2, -3
"""Atoms besides a byte (an int) and a class (a frozenset of bytes): ``*`` within one path part,
``**`` at the end (anything), ``**/`` (zero or more folders)."""

if TYPE_CHECKING:
    Atom = Union[int, frozenset[int]]
    _Pattern = tuple[int, Any]


def _parse(line: bytes, strict: bool = False) -> tuple[bool, bool, _Pattern]:
    """(negative, folders only, (kind, what is matched)) of one pattern; raises
    :class:`_Unmatchable`, and when ``strict`` :class:`_Reversed`."""
    body = line
    negative = body.startswith(b"!")
    if negative:
        body = body[1:]
    dir_only = body.endswith(b"/")
    if dir_only:
        body = body[:-1]
    if not body:
        raise _Unmatchable("is empty")
    if b"/" not in body:  # a name at any depth, matched against the last part of a path
        if not any(c in _SPECIAL for c in body):
            return negative, dir_only, (_NAME, body)
        if body.startswith(b"*") and not any(c in _SPECIAL for c in body[1:]):
            return negative, dir_only, (_SUFFIX, body[1:])
        return negative, dir_only, (_GLOB, _atoms(body, False, strict))
    if body.startswith(b"/"):
        body = body[1:]
    if not body:
        raise _Unmatchable("is empty")
    if body.startswith(b"/") or body.endswith(b"/") or b"//" in body:
        raise _Unmatchable("needs two slashes in a row, or a slash at an end of a path")
    if not any(c in _SPECIAL for c in body):
        return negative, dir_only, (_PATH, body)
    prefix = len(body)
    for i, c in enumerate(body):
        if c in _SPECIAL:
            prefix = i
            break
    # git compares the part before the first wildcard literally and matches the rest on its
    # own: a "**" right after that part counts as at the start ("a**/b" matches "ab").
    atoms: list[Any] = list(body[:prefix]) + _atoms(body[prefix:], True, strict)
    if atoms[0] == _DIRS and _DIRS not in atoms[1:] and _ANY not in atoms and 0x2F not in atoms:
        # "**/NAME": a name at any depth, as "NAME" is
        rest = atoms[1:]
        return negative, dir_only, (_GLOB, [_STAR if a == _STAR else a for a in rest])
    return negative, dir_only, (_PATH_GLOB, atoms)


def _atoms(p: bytes, pathname: bool, strict: bool) -> list[Any]:
    """git's wildmatch pattern ``p`` as atoms, over one name (``pathname`` False) or a
    ``/``-separated path (True)."""
    out: list[Any] = []
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == 0x5C:  # backslash
            if i + 1 >= n:
                raise _Unmatchable("ends in a lone backslash")
            out.append(p[i + 1])
            i += 2
        elif c == 0x3F:  # ?
            out.append(_ANY_BYTE)
            i += 1
        elif c == 0x2A:  # *
            j = i
            while j < n and p[j] == 0x2A:
                j += 1
            if pathname and j - i >= 2 and (i == 0 or p[i - 1] == 0x2F):
                if j == n:
                    out.append(_ANY)
                    i = j
                    continue
                if p[j] == 0x2F:
                    out.append(_DIRS)
                    i = j + 1
                    continue
                if p[j:j + 2] == b"\\/":
                    out.append(_ANY)
                    i = j
                    continue
            if not out or out[-1] != _STAR:
                out.append(_STAR)
            i = j
        elif c == 0x5B:  # [
            members, i = _class(p, i, strict)
            out.append(members)
        else:
            out.append(c)
            i += 1
    return out


def _literal_head(atoms: list[Any]) -> list[int]:
    head = []
    for a in atoms:
        if not isinstance(a, int) or a < 0:
            break
        head.append(a)
    return head


def _segments(atoms: list[Any]) -> list[list[Any]]:
    """A name pattern split at its stars: fixed-length runs of bytes and classes."""
    segments: list[list[Any]] = [[]]
    for a in atoms:
        if a == _STAR:
            segments.append([])
        else:
            segments[-1].append(a)
    return segments


def _quick(segments: list[list[Any]]) -> tuple[list[list[Any]], int, int, frozenset[int] | None]:
    """The segments, the shortest name they match, and one fixed end (index 0 or -1 and the
    bytes allowed there; None when both ends are stars)."""
    size = sum(len(s) for s in segments)
    end = segments[-1][-1] if segments[-1] else segments[0][0] if segments[0] else None
    at = -1 if segments[-1] else 0
    allowed = None if end is None else frozenset((end,)) if isinstance(end, int) else end
    return segments, size, at, allowed


def _fits(segment: list[Any], name: bytes, at: int) -> bool:
    for k, atom in enumerate(segment):
        c = name[at + k]
        if c != atom if atom.__class__ is int else c not in atom:
            return False
    return True


def _glob_match(segments: list[list[Any]], name: bytes) -> bool:
    """Whether ``name`` matches the segments, a star between each two: both ends fixed, each
    middle run at its leftmost place (exact for ``*`` and fixed-length runs)."""
    n = len(name)
    first, last = segments[0], segments[-1]
    if len(segments) == 1:
        return n == len(first) and _fits(first, name, 0)
    if len(first) + len(last) > n or not _fits(last, name, n - len(last)) or not _fits(first, name, 0):
        return False
    pos, end = len(first), n - len(last)
    for segment in segments[1:-1]:
        size = len(segment)
        while pos + size <= end and not _fits(segment, name, pos):
            pos += 1
        if pos + size > end:
            return False
        pos += size
    return True


def _render(atoms: list[Any]) -> bytes:
    """Atoms as a regex over a ``/``-separated path."""
    out: list[bytes] = []
    for a in atoms:
        if a == _STAR:
            out.append(b"[^/]*")
        elif a == _ANY:
            out.append(b".*")
        elif a == _DIRS:
            out.append(b"(?:.*/)?")
        elif isinstance(a, int):
            out.append(b"\\x%02x" % a)
        else:
            out.append(_byte_class(sorted(a)))
    return b"".join(out)


def _ascii(test: Callable[[int], bool]) -> frozenset[int]:
    return frozenset(c for c in range(128) if test(c))


_POSIX: dict[bytes, frozenset[int]] = {
    b"alnum": _ascii(lambda c: chr(c).isalnum()),
    b"alpha": _ascii(lambda c: chr(c).isalpha()),
    b"blank": frozenset((0x09, 0x20)),
    b"cntrl": _ascii(lambda c: c < 0x20 or c == 0x7F),
    b"digit": _ascii(lambda c: chr(c).isdigit()),
    b"graph": _ascii(lambda c: 0x21 <= c <= 0x7E),
    b"lower": _ascii(lambda c: chr(c).islower()),
    b"print": _ascii(lambda c: 0x20 <= c <= 0x7E),
    b"punct": _ascii(lambda c: 0x21 <= c <= 0x7E and not chr(c).isalnum()),
    b"space": frozenset((0x09, 0x0A, 0x0D, 0x20)),  # git's own isspace: no \v, no \f
    b"upper": _ascii(lambda c: chr(c).isupper()),
    b"xdigit": _ascii(lambda c: chr(c) in "0123456789abcdefABCDEF"),
}


_ANY_BYTE = frozenset(range(1, 256)) - {0x2F}
"""``?``: any byte but a slash."""


def _class(p: bytes, i: int, strict: bool) -> tuple[frozenset[int], int]:
    """The class starting at ``p[i]`` (``[``) as the bytes it matches, and the index
    after its ``]``; read as git's wildmatch reads it (``]`` first is a member, ``-`` at an end
    is literal, a range's end may be escaped)."""
    n = len(p)

    def at(k: int) -> int:
        return p[k] if k < n else 0

    i += 1
    ch = at(i)
    if ch == 0x5E:  # ^ is ! here
        ch = 0x21
    negated = ch == 0x21
    if negated:
        i += 1
        ch = at(i)
    members: set[int] = set()
    prev = 0
    while True:
        if not ch:
            raise _Unmatchable("has a character class that is never closed")
        if ch == 0x5C:
            i += 1
            ch = at(i)
            if not ch:
                raise _Unmatchable("has a character class that is never closed")
            members.add(ch)
        elif ch == 0x2D and prev and at(i + 1) and at(i + 1) != 0x5D:
            i += 1
            ch = at(i)
            if ch == 0x5C:
                i += 1
                ch = at(i)
                if not ch:
                    raise _Unmatchable("has a character class that is never closed")
            if strict and ch < prev:
                raise _Reversed(f"{chr(prev)}-{chr(ch)}")
            members.update(range(prev, ch + 1))
            ch = 0
        elif ch == 0x5B and at(i + 1) == 0x3A:
            start = i + 2
            k = start
            while k < n and p[k] != 0x5D:
                k += 1
            if k >= n:
                raise _Unmatchable("has a character class that is never closed")
            if k - start - 1 < 0 or p[k - 1] != 0x3A:
                members.add(0x5B)  # not a [:name:]: a plain "[", and reading goes on after it
            else:
                known = _POSIX.get(p[start:k - 1])
                if known is None:
                    raise _Unmatchable(f"names an unknown class [:{os.fsdecode(p[start:k - 1])}:]")
                members.update(known)
                i = k
                ch = 0
        else:
            members.add(ch)
        prev = ch
        i += 1
        ch = at(i)
        if ch == 0x5D:
            break
    allowed = (set(range(1, 256)) - members) if negated else members
    allowed.discard(0x2F)  # never a slash: a class stays inside one path part
    allowed.discard(0)
    if not allowed:
        raise _Unmatchable("has a character class that matches no character")
    return frozenset(allowed), i + 1


def _byte_class(values: list[int]) -> bytes:
    parts: list[str] = []
    start = prev = values[0]
    for v in values[1:] + [-1]:
        if v == prev + 1:
            prev = v
            continue
        parts.append(f"\\x{start:02x}" if start == prev else f"\\x{start:02x}-\\x{prev:02x}")
        start = prev = v
    return ("[" + "".join(parts) + "]").encode("ascii")


# --- ignore files ----------------------------------------------------------------------------


def read_ignore_file(path: str) -> Rules | None:
    """The rules of the ignore file at ``path``; None when there is none, it cannot be read, it
    is a symbolic link (git does not follow those) or it holds no pattern."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        import stat

        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_FILE:
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    lines = parse_lines(b"".join(chunks))
    return Rules(lines) if any(lines) else None


def repo_excludes(top: str) -> Frames:
    """The ignore files of the work tree at ``top`` besides its ``.gitignore`` files, least
    binding first: the user's ``core.excludesFile``, then the repository's ``info/exclude``."""
    frames: list[tuple[int, Rules]] = []
    for path in (_global_excludes(), _info_exclude(top)):
        rules = read_ignore_file(path) if path else None
        if rules is not None:
            frames.append((0, rules))
    return tuple(frames)


def _info_exclude(top: str) -> str | None:
    dot_git = os.path.join(top, ".git")
    if os.path.isdir(dot_git):
        return os.path.join(dot_git, "info", "exclude")
    try:  # a worktree or a submodule: ".git" is a file naming the git folder
        with open(dot_git, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if not head.startswith(b"gitdir:"):
        return None
    gitdir = os.path.join(top, os.fsdecode(head[7:].strip()))
    try:  # a worktree shares info/exclude with its main repository
        with open(os.path.join(gitdir, "commondir"), "rb") as f:
            gitdir = os.path.join(gitdir, os.fsdecode(f.read(4096).strip()))
    except OSError:
        pass
    return os.path.join(gitdir, "info", "exclude")


def _global_excludes() -> str | None:
    """``core.excludesFile`` of the user's git configuration, else git's default file (include
    directives are not followed)."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    forced = os.environ.get("GIT_CONFIG_GLOBAL")
    found: str | None = None
    for config in ([forced] if forced else [os.path.join(xdg, "git", "config"), os.path.join(home, ".gitconfig")]):
        value = _core_excludes_file(config)
        if value is not None:
            found = value
    if found is None:
        return os.path.join(xdg, "git", "ignore")
    return os.path.expanduser(found) if found.startswith("~") else found


def _core_excludes_file(config: str) -> str | None:
    try:
        with open(config, "rb") as f:
            text = f.read(1 << 20).decode("utf-8", "surrogateescape")
    except OSError:
        return None
    value: str | None = None
    in_core = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line[1:line.find("]")] if "]" in line else ""
            in_core = section.strip().lower() == "core"
            continue
        if not in_core or "=" not in line:
            continue
        key, _, rest = line.partition("=")
        if key.strip().lower() != "excludesfile":
            continue
        rest = rest.strip()
        if rest.startswith('"') and '"' in rest[1:]:
            rest = rest[1:rest.index('"', 1)]
        else:
            for mark in ("#", ";"):
                rest = rest.split(mark, 1)[0]
            rest = rest.strip()
        value = rest or None
    return value


def decide(frames: Frames, rel: bytes, name: bytes, is_dir: bool) -> bool:
    """Whether the ignore files ``frames`` exclude ``rel`` (relative to the work tree; ``name``
    its last part): the deepest file with a matching pattern decides, by its last one."""
    for base, rules in reversed(frames):
        index = rules.decide(rel[base:] if base else rel, name, is_dir)
        if index >= 0:
            return not rules.negative[index]
    return False
