"""Prefect, kept quiet and offline: its environment set before it is imported and our
temporary API server (`prefect_env`), running one of our flows from the CLI (`runner`), and
`ptce serve` with its scheduled deployments (`serve`). The only layer, with `cli`, that
imports the flows."""
