"""The layering of docs/architecture.md: each package imports only from the layers above it."""
import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "gradkit"
LAYERS = ["tree", "safety", "backend", "autodiff", "optim", "nn", "data", "diagnostics", "explain",
          "models", "plot", "report", "cli"]


def _imported_layers(path, package):
    """The gradkit layers a module imports (absolute or relative)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("gradkit"):
                parts = node.module.split(".")
                names = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
            elif node.level >= 2 or (node.level == 1 and package == "gradkit"):
                base = (node.module or "").split(".")[0]
                names = [base] if base else [a.name for a in node.names]
            else:
                continue
            found.update(n for n in names if n in LAYERS)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "gradkit" and len(parts) > 1 and parts[1] in LAYERS:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_from_layers_above(layer):
    target = SRC / layer
    files = sorted(target.rglob("*.py")) if target.is_dir() else [SRC / f"{layer}.py"]
    allowed = set(LAYERS[:LAYERS.index(layer) + 1])
    for path in files:
        bad = _imported_layers(path, layer) - allowed
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}, below {layer}"
