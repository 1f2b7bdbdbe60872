"""Prints one line per feature; exits with the status given as the first argument."""

import os
import sys


def main():
    import importlib.metadata
    import importlib.resources

    import markupsafe
    import yaml

    loaded = yaml.load("a: [1, 2]", Loader=yaml.CLoader)  # the C extension, not the pure fallback
    print("yaml", yaml.__version__, loaded, yaml.__with_libyaml__)
    print("markupsafe", type(markupsafe.escape("<")).__name__, markupsafe._speedups.__file__.endswith(".so"))
    print("resources", importlib.resources.files("bundleapp").joinpath("data/greeting.txt").read_text().strip())
    with open(os.path.join(os.path.dirname(__file__), "data", "greeting.txt")) as f:
        print("file", f.read().strip())
    print("version", importlib.metadata.version("bundleapp"))
    plugins = importlib.metadata.entry_points()
    group = plugins.select(group="bundleapp.plugins") if hasattr(plugins, "select") else plugins.get("bundleapp.plugins", [])
    print("plugins", [ep.load()("ok") for ep in group])
    import certifi

    print("certifi", os.path.isfile(certifi.where()), certifi.contents()[:27])
    print("host", [p for p in sys.path if "site-packages" in p])
    print("python", "{}.{}".format(*sys.version_info[:2]))
    print("argv0", os.path.basename(sys.argv[0]))
    return int(sys.argv[1]) if len(sys.argv) > 1 else 0
