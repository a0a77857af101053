"""Helpers shared by the tests: a real module, imported as `helpers.<module>` (pytest puts
tests/ on the path), never `from conftest import`."""
