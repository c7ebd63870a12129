"""The package's layers, read from its imports with `ast`: a module may import from its own layer or below, never
from a layer above (a back-arrow), so each stage can be read, tested and replaced from the bottom up."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "announcer"
LAYERS = [
    {"errors", "config", "weights", "assets", "cache", "home", "languages", "plain_text", "plain_yaml", "scratch", "signals", "timeline", "named_files", "version"},
    {"media"},
    {"script", "presenters", "templates"},
    {"voice"},
    {"face"},
    {"motion"},
    {"generate"},
    {"cleanup", "deliver", "compose"},
    {"settings"},
    {"manifest", "runtime"},
    {"avatar"},
    {"api"},
    {"eval"},
    {"jobs", "doctor"},
    {"studio"},
    {"cli", "__main__", "__init__"},
]
LAYER_OF = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(path: Path) -> str:
    """The top-level module or subpackage a file belongs to (announcer/voice/align.py -> voice)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imported_units(path: Path, root: Path = PACKAGE) -> set[str]:
    package = list(path.relative_to(root).parent.parts)
    units = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[:len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            units |= {target[0]} if target else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "announcer":
            units.add(node.module.split(".")[1] if "." in node.module else "__init__")
        elif isinstance(node, ast.Import):
            units |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("announcer.")}
    return units


def test_every_module_has_a_layer():
    units = {_unit(path) for path in PACKAGE.rglob("*.py")}
    assert units <= set(LAYER_OF), f"put these in LAYERS: {sorted(units - set(LAYER_OF))}"


def test_no_module_imports_from_a_layer_above_its_own():
    back_arrows = []
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = _unit(path)
        for imported in _imported_units(path) - {unit, "__version__"}:
            if imported in LAYER_OF and LAYER_OF[imported] > LAYER_OF[unit]:
                back_arrows.append(f"{path.relative_to(PACKAGE.parent)} imports {imported}")
    assert back_arrows == []


def test_the_checker_sees_a_back_arrow(tmp_path):
    """Relative, absolute and function-level imports are all read."""
    assert "timeline" in _imported_units(PACKAGE / "media" / "subtitles.py")
    source = tmp_path / "announcer" / "media" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("from . import ffmpeg\n\ndef f():\n    from ..voice.types import Speech\n    import announcer.api\n")
    assert _imported_units(source, tmp_path / "announcer") == {"media", "voice", "api"}
    assert LAYER_OF["voice"] > LAYER_OF["media"] and LAYER_OF["api"] > LAYER_OF["media"]


def test_the_pipeline_times_exactly_the_stages_the_studio_counts():
    """Renaming a stage in api.py alone had silently broken the studio's progress bar (issue 25)."""
    from announcer.config import STAGES

    timed = {node.args[1].value for node in ast.walk(ast.parse((PACKAGE / "api.py").read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_timed"
             and isinstance(node.args[1], ast.Constant)}
    assert timed == set(STAGES)


def _module_imports(path: Path) -> set[str]:
    """The package's modules that `path` imports anywhere (function-local imports too), by dotted name. Importing a
    sibling submodule (`from . import face`) is an edge to that submodule, not to the package's __init__."""
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])  # what `.` means in this file
    known = _MODULES
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - (node.level - 1)] if node.level else []
            target = ".".join(base + (node.module.split(".") if node.module else []))
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known
            found |= submodules or ({target} & known)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & known
    return found


def _dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


_MODULES = {_dotted(path) for path in PACKAGE.rglob("*.py")}


def test_no_module_imports_itself_round_a_circle():
    """Function-local imports included: an import hidden in a function is still a dependency (issue 25)."""
    graph = {_dotted(path): _module_imports(path) - {_dotted(path)} for path in PACKAGE.rglob("*.py")}
    circles = []
    for start in graph:
        seen, frontier = set(), [(start, [start])]
        while frontier:
            module, route = frontier.pop()
            for following in graph[module]:
                if following == start:
                    circles.append(route)
                elif following not in seen:
                    seen.add(following)
                    frontier.append((following, [*route, following]))
    assert circles == [], f"import circles: {sorted({' -> '.join(sorted(c)) for c in circles})[:5]}"


def test_no_stage_finds_the_home_for_itself():
    """The home is resolved once, from --home or ANNOUNCER_HOME, by whoever starts the run (the CLI, a Runtime, the
    studio) and handed down: a stage that called `Home.resolve()` itself would write into another home than the
    run's when the two differ (issue 25)."""
    unaided = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "resolve" \
                    and getattr(node.func.value, "id", None) == "Home" and not node.args and not node.keywords:
                unaided.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert unaided == []


def test_the_orchestrator_and_the_command_stay_thin():
    """Issue 25's measure: api.py under 300 lines, each of the CLI's modules under 500, and no function over 60."""
    assert len((PACKAGE / "api.py").read_text(encoding="utf-8").splitlines()) < 300
    assert all(len(path.read_text(encoding="utf-8").splitlines()) < 500 for path in (PACKAGE / "cli").glob("*.py"))
    long = [f"{path.relative_to(PACKAGE.parent)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in sorted(PACKAGE.rglob("*.py")) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60]
    assert long == []
