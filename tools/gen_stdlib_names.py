"""Write the top-level standard-library module names of the interpreter running this script.

Run it once with each CPython (2.7, 3.6+) to regenerate src/bytecast/stdlib_names/X.Y.txt:

    pythonX.Y tools/gen_stdlib_names.py src/bytecast/stdlib_names

3.10+ gives its own official list (sys.stdlib_module_names, the same on every platform).
Older versions have none, so the list is what this build ships (built-in modules, the stdlib
folder, lib-dynload) plus the modules that exist only on Windows or macOS builds.
`bytecast imports` uses these to classify imports by the Python version of the bytecode.
"""

# Runs under Python 2.7 too, so it keeps the oldest syntax:
# ruff: noqa: UP031

import os
import pkgutil
import sys
import sysconfig

# Modules a Linux build lacks but other platforms' builds of the same version have.
OTHER_PLATFORMS = {
    "2": ["_winreg", "msvcrt", "winsound", "_msi", "msilib", "nt", "_subprocess", "MacOS",
          "Carbon", "EasyDialogs", "FrameWork", "ic", "macostools", "findertools", "_scproxy",
          "_multiprocessing", "_ctypes"],
    "3": ["winreg", "msvcrt", "winsound", "_winapi", "_msi", "msilib", "nt", "_overlapped",
          "_scproxy", "_wmi", "_winreg"],
}


def names():
    if hasattr(sys, "stdlib_module_names"):
        return set(sys.stdlib_module_names)
    found = set(sys.builtin_module_names)
    lib = sysconfig.get_paths()["stdlib"]
    for item in pkgutil.iter_modules([lib, os.path.join(lib, "lib-dynload")]):
        found.add(item[1])
    found.update(OTHER_PLATFORMS[str(sys.version_info[0])])
    found.discard("site-packages")
    return found


def main(argv):
    outdir = argv[0] if argv else os.path.join("src", "bytecast", "stdlib_names")
    version = "%d.%d" % sys.version_info[:2]
    path = os.path.join(outdir, version + ".txt")
    with open(path, "w") as f:
        f.write("# Top-level stdlib modules of Python %s (tools/gen_stdlib_names.py, %d.%d.%d)\n"
                % ((version,) + tuple(sys.version_info[:3])))
        f.write("\n".join(sorted(names())) + "\n")
    sys.stdout.write("wrote %s\n" % path)


if __name__ == "__main__":
    main(sys.argv[1:])
