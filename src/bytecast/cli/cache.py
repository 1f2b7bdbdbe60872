"""``bytecast cache``: the folders bundles write their native extensions and data files to."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    p = sub.add_parser(
        "cache",
        help="list or prune the cache of bundles' native extensions and data files",
        description=(
            "List the folders under the bundle cache ($BYTECAST_CACHE, else "
            "$XDG_CACHE_HOME/bytecast/bundles, else ~/.cache/bytecast/bundles): one per set of "
            "files a distribution's native extensions and data need, shared by every bundle "
            "holding them. --prune removes those unused for --days days and the leftovers of "
            "killed runs; a bundle whose folder is gone writes it again when it next runs."
        ),
    )
    p.add_argument("--prune", action="store_true", help="remove folders not used for --days days")
    p.add_argument("--days", type=float, default=30.0, metavar="N", help="with --prune: unused for N days (30)")
    p.add_argument("--all", action="store_true", help="with --prune: remove every folder")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def run(args: argparse.Namespace) -> int:
    import sys

    from bytecast.bundlecache import cache_root, entries, prune
    from bytecast.cli._output import EXIT_OK, document, print_json, print_rows
    from bytecast.cli._parser import FlagError

    if args.all and not args.prune:
        raise FlagError("--all goes with --prune")
    if args.days < 0:
        raise FlagError(f"--days must be 0 or more, not {args.days:g}")
    root = cache_root()
    listed = prune(args.days, everything=args.all) if args.prune else entries()
    if args.json:
        print_json(document("cache", True, root=root, pruned=args.prune, entries=[
            {"name": e.name, "path": e.path, "size": e.size, "files": e.files, "used": e.used,
             "complete": e.complete} for e in listed]))
        return EXIT_OK
    if args.prune:
        total = sum(e.size for e in listed)
        sys.stderr.write(f"removed {len(listed)} folder{'s' if len(listed) != 1 else ''} "
                         f"({total / 1e6:.1f} MB) from {root}\n")
        return EXIT_OK
    if not listed:
        sys.stderr.write(f"the bundle cache is empty ({root})\n")
        return EXIT_OK
    import time

    rows = [("FOLDER", "FILES", "SIZE", "LAST USED")]
    for e in listed:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.used))
        rows.append((e.name, str(e.files), f"{e.size / 1e6:.1f} MB", when if e.complete else f"{when} (unfinished)"))
    print_rows(rows)
    return EXIT_OK
