"""The layer ships bytecode: Lambda's /opt is read-only, so a layer without .pyc files
compiles every module it imports on every cold start."""

from __future__ import annotations

import re

from tests.support import ROOT
from tollgate_local import template


def test_the_layer_is_built_by_its_makefile_which_compiles_it_for_the_runtime():
    layer = template.resources("AWS::Serverless::LayerVersion")["TollgateLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    makefile = (ROOT / "layers" / "tollgate" / "Makefile").read_text()
    target = re.search(r"^build-TollgateLayer:\n((?:\t.*\n?)+)", makefile, re.M)
    assert target, "sam build runs the build-<LogicalId> target"
    recipe = target.group(1)
    assert "--python-version 3.12" in recipe and "aarch64" in recipe  # the runtime and BuildArchitecture
    assert "-r requirements.txt" in recipe
    assert re.search(r"compileall .*--invalidation-mode unchecked-hash", recipe)
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
