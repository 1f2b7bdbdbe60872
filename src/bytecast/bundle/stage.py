"""Staging: pip installs the inputs for each target; what a stage holds (distributions,
entry points)."""

from __future__ import annotations

import os
import sys

from bytecast.errors import DataError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from bytecast.targets import Target

from bytecast.bundle._format import Entry

__all__ = ["stage", "prebuild", "read_dists", "console_scripts", "entry_point"]


def stage(inputs: Sequence[str], target: Target, folder: str, *,
          runner: Callable[..., Any] | None = None, labels: Sequence[str] = ()) -> None:
    """Install ``inputs`` (requirement specifiers, wheel files, project folders) and their
    dependencies into ``folder`` for ``target``, with pip's resolver run by that target's
    interpreter: bytecast's own pip (``pip --python``), or the target's pip for a Python
    bytecast's pip no longer supports (pip 26 dropped 3.9). A failure is a DataError with
    pip's last lines."""
    import subprocess

    options = ["install", "--target", folder, "--no-compile", "--no-input", "--disable-pip-version-check",
               "--no-warn-script-location", "--quiet"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        options.append("--root-user-action=ignore")
    options.extend(_pip_input(i) for i in inputs)
    run = runner or subprocess.run
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PIP_NO_COMPILE"] = "1"
    done = run([sys.executable, "-m", "pip", "--python", target.executable, *options],
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if done.returncode != 0 and b"does not support python" in done.stderr:
        done = run([target.executable, "-m", "pip", *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=env)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines()
                 if ln.strip() and not ln.startswith("WARNING: Location ")]
        tail = " / ".join(ln.strip() for ln in lines[-3:]) or f"pip exited {done.returncode}"
        raise DataError(f"pip could not install {' '.join(labels or inputs)} for {target.label}: {tail}")


def prebuild(inputs: Sequence[str], folder: str, runner: Callable[..., Any] | None = None) -> list[str]:
    """Project folders built into wheels once (pip, PEP 517, isolated), so every target
    installs the same build: a pure wheel replaces its folder; a folder whose wheel is
    native stays, each target building its own."""
    import subprocess

    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    run = runner or subprocess.run
    result = []
    for spec in inputs:
        if not os.path.isdir(spec):
            result.append(spec)
            continue
        out = os.path.join(folder, f"wheel-{len(result)}")
        done = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-input", "--quiet",
                    "--disable-pip-version-check", "-w", out, os.path.abspath(spec)],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wheels = sorted(os.listdir(out)) if done.returncode == 0 and os.path.isdir(out) else []
        if len(wheels) != 1:
            result.append(spec)  # each target's pip builds it, and says what went wrong
            continue
        try:
            tags = parse_wheel_filename(wheels[0])[3]
        except InvalidWheelFilename:
            result.append(spec)
            continue
        pure = all(tag.abi == "none" and tag.platform == "any" for tag in tags)
        result.append(os.path.join(out, wheels[0]) if pure else spec)
    return result


def _pip_input(spec: str) -> str:
    """A project folder or a wheel is given to pip as a path; anything else is a requirement."""
    if os.path.isdir(spec) or spec.endswith(".whl"):
        return os.path.abspath(spec)
    return spec


class _Dist:
    """A distribution found in a stage: its metadata and the files its RECORD names."""

    def __init__(self, info: str, name: str, version: str, metadata: dict[str, bytes], owned: set[str]) -> None:
        self.info = info
        self.name = name
        self.version = version
        self.metadata = metadata
        self.owned = owned


_INSTALL_ONLY = ("direct_url.json", "REQUESTED")
"""dist-info files about one install (where pip took it from), not about the distribution:
left out of a bundle, which stays the same wherever it was built from."""


def read_dists(folder: str) -> list[_Dist]:
    """Every ``*.dist-info`` folder at the top of a stage, sorted by name. Their RECORD keeps
    the rows of files the bundle holds (not pip's ``bin/`` wrappers, nor install-only files)."""
    import csv
    import io

    dists = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".dist-info"):
            continue
        info = os.path.join(folder, name)
        metadata: dict[str, bytes] = {}
        for fname in sorted(os.listdir(info)):
            path = os.path.join(info, fname)
            if os.path.isfile(path) and fname not in _INSTALL_ONLY:
                with open(path, "rb") as f:
                    metadata[fname] = f.read()
        fields = headers(metadata.get("METADATA", b""))
        owned: set[str] = set()
        kept = io.StringIO()
        writer = csv.writer(kept, lineterminator="\n")
        for row in csv.reader(io.StringIO(metadata.get("RECORD", b"").decode("utf-8", "replace"))):
            if not row or row[0].startswith(("../", "/")) or row[0].rsplit("/", 1)[-1] in _INSTALL_ONLY:
                continue
            owned.add(os.path.normpath(row[0]))
            writer.writerow(row)
        if "RECORD" in metadata:
            metadata["RECORD"] = kept.getvalue().encode("utf-8")
        dists.append(_Dist(name, fields.get("name", name.split("-")[0]), fields.get("version", ""),
                           metadata, owned))
    return dists


def headers(metadata: bytes) -> dict[str, str]:
    """The first value of each header of a METADATA file (lower-case names)."""
    fields: dict[str, str] = {}
    for line in metadata.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and not key.startswith((" ", "\t")):
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def console_scripts(dists: Sequence[_Dist]) -> dict[str, tuple[str, str]]:
    """Console-script name -> (module, attribute), from every distribution's entry points."""
    import configparser

    scripts: dict[str, tuple[str, str]] = {}
    for dist in dists:
        text = dist.metadata.get("entry_points.txt")
        if not text:
            continue
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(text.decode("utf-8", "replace"))
        except configparser.Error:
            continue
        if parser.has_section("console_scripts"):
            for name, value in parser.items("console_scripts"):
                module, _, attribute = value.partition(":")
                scripts[name] = (module.strip(), attribute.split("[")[0].strip())
    return scripts


def entry_point(dists: Sequence[_Dist], *, script: str | None, function: str | None,
                module: str | None, wanted: Sequence[str] = ()) -> Entry:
    """The entry point asked for; with none asked, the only console script of the named
    inputs (or of the whole stage). A choice that cannot be made is a UsageError."""
    if module:
        return ("module", module, "")
    if function:
        mod, sep, attribute = function.partition(":")
        if not sep or not mod or not attribute:
            raise UsageError(f"entry point {function!r} must be MODULE:FUNCTION", "entry")
        return ("console", mod, attribute)
    scripts = console_scripts(dists)
    if script:
        if script not in scripts:
            known = ", ".join(sorted(scripts)) or "none"
            raise UsageError(f"no console script named {script!r} (the distributions have: {known})", "entry")
        return ("console", *scripts[script])
    from bytecast.import_classify import normalize  # PEP 503 names: their one home

    names = {normalize(w) for w in wanted}
    own = console_scripts([d for d in dists if normalize(d.name) in names]) if names else {}
    choice = own or scripts
    if len(choice) == 1:
        return ("console", *next(iter(choice.values())))
    known = ", ".join(sorted(choice)) or "none"
    raise UsageError(f"say which entry point to run: -c SCRIPT, -e MODULE:FUNCTION or -m MODULE "
                     f"(console scripts: {known})", "entry")



def requirement_name(spec: str) -> str:
    import re

    if os.path.isdir(spec):
        try:
            if sys.version_info >= (3, 11):
                import tomllib
            else:
                import tomli as tomllib
            with open(os.path.join(spec, "pyproject.toml"), "rb") as f:
                return str(tomllib.load(f)["project"]["name"])
        except (ImportError, OSError, KeyError, TypeError, ValueError):
            return os.path.basename(os.path.abspath(spec))
    if spec.endswith(".whl"):
        return os.path.basename(spec).split("-")[0]
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    return match.group(0) if match else spec


def stage_all(inputs: Sequence[str], targets: Sequence[Target], scratch: str,
               labels: Sequence[str]) -> dict[str, str | None]:
    """Stage every target at once (pip spends most of its time waiting on the index): cache
    tag -> None when staged, else why not."""
    from concurrent.futures import ThreadPoolExecutor

    def one(target: Target) -> str | None:
        try:
            stage(inputs, target, os.path.join(scratch, target.cache_tag), labels=labels)
        except DataError as exc:
            return str(exc)
        return None

    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        results = list(pool.map(one, targets))
    return {t.cache_tag: r for t, r in zip(targets, results)}
