"""`python -m fclf_edge.runtime` works like the `fclf-edge` command."""

from .cli import run

run()
