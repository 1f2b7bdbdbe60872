"""The package as PyPI shows it: the wheel's METADATA carries the metadata users look for and
the PyPI description (docs/pypi.md), which opens with ``pip install bytecast``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_built_wheel_carries_the_pypi_description_and_metadata(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the test extras install build (the PEP 517 front end)")
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("bytecast-*.whl")
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = HeaderParser().parsestr(z.read(name).decode("utf-8"))
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in z.namelist())
    description = metadata.get_payload()
    assert isinstance(description, str)
    assert description.strip() == (ROOT / "docs" / "pypi.md").read_text().strip()
    assert description.lstrip().splitlines()[:4] == ["# bytecast", "", "```sh", "pip install bytecast"]
    assert "pip install ." not in description and "/tmp/" not in description
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Author"]
    urls = {name: url for name, _, url in (u.partition(", ") for u in metadata.get_all("Project-URL") or [])}
    assert set(urls) >= {"Homepage", "Source", "Issues", "Changelog"}
    assert all(u.startswith("https://github.com/bytecast/bytecast") for u in urls.values())
    classifiers: list[str] = metadata.get_all("Classifier") or []
    for minor in range(9, 14):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert any(c.startswith("Operating System :: ") for c in classifiers)
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert metadata["Requires-Python"] == ">=3.9"


def test_the_readme_keeps_its_set_up_commands_first() -> None:
    """The house rule the PyPI description exists for: the README opens with set-up."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(block) == 2 and all(line.startswith("python3 -m venv .venv && ") for line in block)
