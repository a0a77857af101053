"""Hostile and messy inputs: the corpus of issue 9 and the bombs of issue 3."""
