"""Named sections of docs/benchmarks.md that other benchmark scripts own.

bench/run.py rewrites the file's main tables; a script such as bench/train_file.py writes its
own section between `<!-- section:NAME -->` and `<!-- /section:NAME -->`, and run.py carries
every such section over when it rewrites the file, so no script erases another's figures.
"""

from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"<!-- section:(?P<name>[\w-]+) -->\n.*?<!-- /section:(?P=name) -->\n", re.S)


def sections(text: str) -> dict[str, str]:
    """Every named section in `text`, markers included, by name."""
    return {m.group("name"): m.group(0) for m in _SECTION.finditer(text)}


def update_section(path: Path, name: str, markdown: str) -> None:
    """Replace section `name` of the file at `path` with `markdown` (appended if absent)."""
    block = f"<!-- section:{name} -->\n{markdown.rstrip()}\n<!-- /section:{name} -->\n"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    found = sections(text)
    if name in found:
        text = text.replace(found[name], block)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)


def keep_sections(old: str, new: str) -> str:
    """`new` with every section of `old` that `new` lacks appended, in their old order."""
    have = sections(new)
    kept = [block for name, block in sections(old).items() if name not in have]
    return new if not kept else new.rstrip("\n") + "\n\n" + "\n".join(kept)
