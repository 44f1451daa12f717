"""The Python SDK (sdk/) builds as a typed wheel that depends on httpx and pydantic alone.

``pip install ./sdk`` builds this same wheel (hatchling, fetched into an isolated build
environment as pip does for any source tree)."""

from __future__ import annotations

import email.parser
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "sdk"


def test_the_sdk_wheel_is_typed_and_needs_only_httpx_and_pydantic(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--wheel-dir", str(tmp_path), str(SDK)], check=True, timeout=300)
    (wheel,) = tmp_path.glob("tollgate_sdk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    sources = {p.relative_to(SDK / "src").as_posix() for p in (SDK / "src" / "tollgate_sdk").iterdir()
               if p.suffix == ".py" or p.name == "py.typed"}
    assert "tollgate_sdk/py.typed" in sources
    assert sources <= names, sources - names
    assert not [n for n in names if not n.startswith(("tollgate_sdk/", "tollgate_sdk-"))]
    assert metadata["Name"] == "tollgate-sdk"
    assert sorted(metadata.get_all("Requires-Dist")) == ["httpx>=0.27", "pydantic>=2"]
    assert "Typing :: Typed" in metadata.get_all("Classifier")
