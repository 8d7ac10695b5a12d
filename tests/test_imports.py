"""The import rules of issue 23, read from deckbuild's source with `ast`: no import cycle, no import of
one of our modules inside a function (cli.py excepted: it loads a command's modules only when that
command runs), and no import against the layer order below."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "deckbuild"

# Bottom first. A module may import its own layer and the layers below it, never one above. The
# pipeline is load -> parse -> render -> plan -> package; checkers come after the stage they check.
# A subpackage (convert/) counts as one module. A new module must be given its place here.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("records",),
    # tools that know no stage: text, markup, highlighting, ids, the lock file, the render cache, the pool
    ("__init__", "command", "ids", "tex", "sanitize", "cloze", "dialect", "fastlex", "highlight", "templates",
     "notetypes", "lintrules", "media", "references", "cloze_checks", "order", "lock", "cache", "workers"),
    ("config",),
    ("load",),
    ("options", "choices"),  # the parts of parse that read a card's options and choices
    ("parse",),
    ("render",),
    ("checks", "lint"),  # across all cards, once rendered
    ("plan",),
    ("package", "preview", "uptodate"),
    ("build",),
    # commands around the build
    ("addids", "convert", "init", "push", "release", "stats", "watch"),
    ("cli", "__main__"),
)
TOP = "cli"  # may import inside its functions: a command's heavy modules load when it runs


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool
    type_only: bool  # under `if TYPE_CHECKING:`, absent at run time

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def _unit(package: Path, parts: list[str]) -> str:
    """The module (or subpackage) of `package` that a dotted path inside it names."""
    if not parts:
        return "__init__"
    first = parts[0]
    return first if (package / f"{first}.py").is_file() or (package / first).is_dir() else "__init__"


class _Imports(ast.NodeVisitor):
    def __init__(self, package: Path, path: Path) -> None:
        parts = path.relative_to(package).with_suffix("").parts
        self.package = package
        self.module = parts[0]
        self.folder = list(parts[:-1])  # the package the file is in, below `package`
        self.found: list[Import] = []
        self.functions = 0
        self.type_only = 0

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        checking = "TYPE_CHECKING" in ast.unparse(node.test)
        self.type_only += checking
        for child in node.body:
            self.visit(child)
        self.type_only -= checking
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            dotted = alias.name.split(".")
            if dotted[0] == self.package.name:
                self._add(_unit(self.package, dotted[1:]), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = (node.module or "").split(".") if node.module else []
        if node.level == 0:
            if not module or module[0] != self.package.name:
                return
            base: list[str] = []
            module = module[1:]
        else:
            up = node.level - 1
            if up > len(self.folder):
                return
            base = self.folder[: len(self.folder) - up]
        targets = [base + module] if module else [base + [alias.name] for alias in node.names]
        for target in targets:
            self._add(_unit(self.package, target), node)

    def _add(self, imported: str, node: ast.stmt) -> None:
        if imported != self.module:
            self.found.append(Import(self.module, imported, node.lineno, self.functions > 0, self.type_only > 0))


def imports_of(package: Path) -> list[Import]:
    """Every import of one of the package's modules by another, in file order."""
    found: list[Import] = []
    for path in sorted(package.rglob("*.py")):
        reader = _Imports(package, path)
        reader.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += reader.found
    return found


def find_cycle(imports: list[Import]) -> list[str] | None:
    """One import cycle among the imports made at run time (the modules, first repeated last), or None."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if not imp.type_only:
            graph.setdefault(imp.importer, set()).add(imp.imported)
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if cycle := visit(imported):
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if cycle := visit(module):
            return cycle
    return None


def imports_in_functions(imports: list[Import], top: str = TOP) -> list[str]:
    return [str(imp) for imp in imports if imp.in_function and imp.importer != top]


def imports_upward(imports: list[Import], layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    layer = {module: index for index, names in enumerate(layers) for module in names}
    unplaced = sorted({m for imp in imports for m in (imp.importer, imp.imported) if m not in layer})
    upward = [f"{imp}, a later layer" for imp in imports
              if imp.importer in layer and imp.imported in layer and layer[imp.imported] > layer[imp.importer]]
    return [f"{module}: not in LAYERS" for module in unplaced] + upward


def test_deckbuild_has_no_import_cycle() -> None:
    assert find_cycle(imports_of(PACKAGE)) is None


def test_deckbuild_imports_none_of_its_modules_inside_a_function_but_in_the_cli() -> None:
    assert imports_in_functions(imports_of(PACKAGE)) == []


def test_every_module_has_a_layer_and_imports_none_above_it() -> None:
    modules = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in PACKAGE.glob("*")
               if path.suffix == ".py" or (path / "__init__.py").is_file()}
    placed = [module for names in LAYERS for module in names]
    assert len(placed) == len(set(placed)), "a module in two layers"
    assert sorted(modules - set(placed)) == [], "modules without a place in LAYERS"
    assert imports_upward(imports_of(PACKAGE)) == []


def test_the_rules_catch_a_cycle_an_import_in_a_function_and_an_import_upward(tmp_path: Path) -> None:
    package = tmp_path / "deckbuild"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "errors.py": "from .records import Record\n",  # upward
        "records.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .load import x\n",
        "load.py": "def read():\n    from . import parse\n",  # inside a function
        "parse.py": "import deckbuild.render\n",
        "render.py": "from deckbuild import parse\n",  # parse <-> render
        "cli.py": "def main():\n    from .sub.tool import run\n",  # allowed: the top
        "sub/__init__.py": "",
        "sub/tool.py": "from ..errors import E\nfrom .other import y\n",
        "sub/other.py": "",
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    found = imports_of(package)
    assert {(i.importer, i.imported) for i in found} == {
        ("errors", "records"), ("records", "load"), ("load", "parse"), ("parse", "render"), ("render", "parse"),
        ("cli", "sub"), ("sub", "errors"),
    }
    assert find_cycle(found) == ["parse", "render", "parse"]
    assert find_cycle([i for i in found if i.importer != "render"]) is None
    assert imports_in_functions(found) == ["load (line 2) imports parse"]
    layers = (("errors",), ("records",), ("parse", "render"), ("load",), ("sub",), ("cli",))
    assert imports_upward(found, layers) == [
        "errors (line 1) imports records, a later layer", "records (line 3) imports load, a later layer",
    ]
    assert imports_upward(found, layers[:-1]) == ["cli: not in LAYERS"] + imports_upward(found, layers)
