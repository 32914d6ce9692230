"""Write each EXAMPLES task of the collection's modules and filters to a tasks file of its own.

    examples.py PLUGINS_DIR OUT_DIR   prints {"<plugin>": ["OUT_DIR/<plugin>-<n>.yml", ...], ...}

The EXAMPLES text is read from the source with ast (no import), exactly as ansible-doc shows it,
so the integration target runs what a user copies.
"""

import ast
import json
import pathlib
import sys

import yaml


def examples_of(source: pathlib.Path) -> list:
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            tasks = yaml.safe_load(node.value.value)
            if not isinstance(tasks, list) or not tasks:
                raise SystemExit(f"{source}: EXAMPLES is not a list of tasks")
            return tasks
    raise SystemExit(f"{source}: no EXAMPLES")


def main(plugins_dir: str, out_dir: str) -> None:
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for source in sorted(pathlib.Path(plugins_dir).glob("[mf]*/*.py")):
        if source.parent.name not in ("modules", "filter") or source.name.startswith("_"):
            continue
        files = []
        for n, task in enumerate(examples_of(source), 1):
            path = out / f"{source.stem}-{n}.yml"
            path.write_text(yaml.safe_dump([task], sort_keys=False))
            files.append(str(path))
        written[source.stem] = files
    json.dump(written, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
