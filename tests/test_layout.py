"""The layout of the rooms: one direction of dependency between the folders and the wings of geo/, and no import
circle anywhere (imports inside functions included — they are how a circle hides)."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "layers", "maps", "scripts", "bgplan")

#: Who may import whom. A folder (or a wing of geo/) may import itself and what is listed.
ALLOWED = {
    "geo": set(),                                   # geo's core: errors, settings, config, text, crs, cluster
    "geo.io": {"geo"},
    "geo.routing": {"geo", "geo.io"},
    "geo.siting": {"geo", "geo.io", "geo.routing"},
    "layers": {"geo", "geo.io", "geo.routing", "geo.siting"},
    "maps": {"geo", "geo.io", "geo.routing", "geo.siting", "layers"},
    "bgplan": {"geo", "geo.io", "geo.routing", "geo.siting", "layers", "maps"},
    "scripts": {"geo", "geo.io", "geo.routing", "geo.siting", "layers", "maps", "bgplan"},
}
WINGS = ("geo.io", "geo.routing", "geo.siting")


def _room(module: str) -> str:
    """The folder or geo wing a module belongs to."""
    for wing in WINGS:
        if module == wing or module.startswith(wing + "."):
            return wing
    return module.split(".")[0]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")) if (REPO / package).is_dir() else []:
            found[_module_name(path)] = path
    return found


def _imports(path: Path, known: set[str], me: str) -> set[str]:
    """Project modules imported anywhere in the file (``from a.b import c`` counts as a.b.c when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names]
        else:
            continue
        for n in names:
            if n.split(".")[0] not in PACKAGES or n not in known:
                continue
            out.add(n)
            # importing a.b.c runs the package a.b's __init__ first: that is an edge too (a circle through a package's
            # re-exports is a real one), except for the packages the importer itself lives in
            parts = n.split(".")
            for k in range(1, len(parts)):
                package = ".".join(parts[:k])
                if package in known and not me.startswith(package + "."):
                    out.add(package)
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known, name) - {name} for name, path in modules.items()}


def test_no_upward_import_between_folders_and_wings(graph):
    wrong = sorted(f"{a} imports {b}" for a, deps in graph.items() for b in deps
                   if _room(b) != _room(a) and _room(b) not in ALLOWED[_room(a)])
    assert not wrong, "\n".join(wrong)


def test_no_import_circle(graph):
    """Tarjan's strongly connected components: every component is one module (a package importing its own
    submodules to re-export them is not a circle as long as no submodule imports the package back)."""
    index, low, stack, on, circles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not circles, circles


def test_the_checks_can_fail(tmp_path):
    """The two checks above find an upward import and a circle when there is one."""
    fake = {"geo.io.vector": {"layers.parks"}, "layers.parks": {"geo.io.vector"}}
    # the circle that a package's re-exports made: corridors → networks.opened → networks/__init__ → roads → corridors
    module = tmp_path / "corridors.py"
    module.write_text("def f():\n    from layers.networks.opened import read_opened_roads\n", encoding="utf-8")
    here = {"layers", "layers.networks", "layers.networks.opened", "layers.networks.roads"}
    assert _imports(module, here, "layers.corridors") == {"layers.networks", "layers.networks.opened"}
    assert _imports(module, here, "layers.networks.roads") == {"layers.networks.opened"}   # its own packages: no edge
    assert any(_room(b) not in ALLOWED[_room(a)] for a, deps in fake.items() for b in deps if _room(b) != _room(a))
    assert _room("geo.routing.router") == "geo.routing" and _room("geo.errors") == "geo"
