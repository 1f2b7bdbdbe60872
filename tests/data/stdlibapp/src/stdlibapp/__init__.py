"""Prints, as JSON, how the standard-library modules it uses were loaded (for bytecast's tests)."""

import json
import sys
import textwrap

WATCHED = ("json", "json.decoder", "textwrap", "email", "email.message", "colorsys")


def main():
    import email.message
    import importlib
    import inspect
    import traceback

    importlib.import_module("".join(["color", "sys"]))  # named by no import statement: not held
    out = {"loaders": {}, "modules": {}}
    for name in WATCHED:
        module = sys.modules[name]
        spec = module.__spec__
        out["loaders"][name] = type(spec.loader).__name__
        out["modules"][name] = {
            "file": module.__file__, "origin": spec.origin, "cached": module.__cached__,
            "path": list(getattr(module, "__path__", None) or []) or None,
            "co_filename": next((f.__code__.co_filename for f in vars(module).values()
                                 if hasattr(f, "__code__") and f.__module__ == name), None),
        }
    out["source"] = inspect.getsource(textwrap.dedent).splitlines()[0]
    try:
        json.loads("{")
    except ValueError:
        lines = traceback.format_exc().splitlines()
        first = next(i for i, line in enumerate(lines) if "json" in line and "File" in line)
        out["traceback"] = lines[first:]  # the standard library's frames, with their source lines
    out["message"] = email.message.Message().get_content_type()
    import gc

    out["gc"] = [gc.get_threshold()[0], gc.get_freeze_count() > 0, gc.isenabled()]
    reloaded = importlib.reload(textwrap)
    out["reloaded"] = [type(reloaded.__spec__.loader).__name__, reloaded.dedent("  x\n  y") == "x\ny"]
    print(json.dumps(out, sort_keys=True))
    return 0
