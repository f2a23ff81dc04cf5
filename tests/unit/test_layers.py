"""The layers of docs/architecture.md hold: no import runs back up, and the service never loads the model
factory (so it never looks for ../shared)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import opencomprehend

ROOT = Path(opencomprehend.__file__).parent
# Higher imports lower (the console is a view over the API's operations: above it, never imported by it);
# io, nlp and security are the bottom and import none of the others' upper layers.
RANK = {"console": 5, "api": 4, "service": 3, "jobs": 2, "runtime": 1, "io": 0, "nlp": 0, "security": 0}


def imports_of(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("opencomprehend."):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("opencomprehend.")]
    return found


def test_no_import_runs_back_up_a_layer() -> None:
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        layer = parts[0] if len(parts) > 1 else None
        if layer not in RANK:
            continue
        for module in imports_of(path):
            target = module.split(".")[1]
            if target == "modelbuild" or (target in RANK and RANK[target] > RANK[layer]):
                upward.append(f"{'/'.join(parts)} imports {module}")
    assert upward == []


def test_the_service_and_its_workers_never_load_the_model_factory() -> None:
    code = (
        "import sys\n"
        "from opencomprehend.server import create_app\n"
        "from opencomprehend.runtime import runner, worker\n"
        "from opencomprehend.nlp.pii import PiiEngine\n"
        "worker.engine_for(runner.pii_engine_key('en')).recognise(['Call John Smith on (206) 555-0100.'])\n"
        # ja reads Sudachi word features in its tokenizer (nlp/ner/tokenizers.py): a worker loads it too.
        "found = worker.engine_for(runner.entities_engine('ja')).recognise(['山田太郎は東京に住む。'])[0]\n"
        "assert [(e['Text'], e['Type']) for e in found] == [('山田太郎', 'PERSON'), ('東京', 'LOCATION')], found\n"
        "print(sorted(m for m in sys.modules if m.startswith('opencomprehend.modelbuild')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
