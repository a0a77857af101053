"""The command line `ptce` (French help and output): argument parsing in `parser`, each verb
a thin shell in `verbs` that calls one library function and prints French."""

from ptce_pipeline.cli.parser import entry, main

__all__ = ["entry", "main"]
