"""`python -m paperlens ...`: the same CLI as the `paperlens` command."""

from paperlens.assistant.cli import main

main()
