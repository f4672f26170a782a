"""`python -m pipeline` is the same as the `wst` command."""

from pipeline.cli import main

main()
