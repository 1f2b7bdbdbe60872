"""Reading a bundle back for people: what it holds, never running or unmarshalling it."""

from __future__ import annotations

import os

from bytecast.errors import DataError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


from bytecast.bundle._format import INDEX_DIR

__all__ = ["is_bundle", "describe"]


def is_bundle(path: str) -> bool:
    """Whether ``path`` is a file bytecast bundled (a zip holding ``.bytecast/bundle.json``)."""
    import zipfile

    if not os.path.isfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            zf.getinfo(f"{INDEX_DIR}/bundle.json")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False
    return True


def describe(path: str) -> dict[str, Any]:
    """What a bundle holds, from its ``bundle.json`` and its archive's listing (nothing in it
    is run or unmarshalled): versions, entry point, distributions, sizes, native files."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(f"{INDEX_DIR}/bundle.json")
            if info.file_size > 16 * 1024 * 1024:
                raise DataError(f"{path}: bundle.json of {info.file_size} bytes is past any real bundle's")
            document = json.loads(zf.read(info).decode("utf-8"))
            sizes = {i.filename: i.file_size for i in zf.infolist()}
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable bundle ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("targets"), list):
        raise DataError(f"{path}: bundle.json is not a bundle's description")
    for target in document["targets"]:
        if isinstance(target, dict):
            target["index_bytes"] = sizes.get(f"{INDEX_DIR}/{target.get('target')}", 0)
    document["size"] = os.path.getsize(path)
    document["stored_files"] = sum(1 for name in sizes if name.startswith(f"{INDEX_DIR}/files/"))
    return document
