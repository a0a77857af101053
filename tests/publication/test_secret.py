"""The suppression rules on small hand-made tables: frequency, dominance, secondary suppression
(±10 %, a cell worth 0), a shared total, determinism."""

from __future__ import annotations

from ptce_pipeline.publication.secret import Cell, Group, primary, suppress


def cell(*values: float) -> Cell:
    return Cell.of(values)


def test_frequency_and_dominance():
    assert primary(cell(10, 20))  # 2 poles
    assert not primary(cell(10, 20, 30))
    assert primary(cell(1, 1, 90))  # one pole above 85 % of the sum
    assert not primary(cell(10, 10, 80))  # 80 %: not dominant
    assert Cell.of([None, float("nan")]) is None


def test_a_lonely_cell_gets_a_complement_big_enough():
    cells = {
        "a": cell(50),  # one pole: primary
        "b": cell(1, 1, 1),  # 3: too small to protect a (needs ≥ 5)
        "c": cell(2, 3, 4),  # 9: the smallest that closes the gap
        "d": cell(100, 100, 100),
        "t": cell(50, 1, 1, 1, 2, 3, 4, 100, 100, 100),
    }
    masked = suppress(cells, [Group(("a", "b", "c", "d"), "t")])
    assert masked == {"a", "c"}


def test_a_cell_worth_zero_is_not_left_alone():
    cells = {
        "a": cell(0),
        "b": cell(0, 0, 0),
        "c": cell(5, 5, 5),
        "t": cell(0, 0, 0, 0, 5, 5, 5),
    }
    masked = suppress(cells, [Group(("a", "b", "c"), "t")])
    assert "a" in masked and "c" in masked  # a partner worth more than 0


def test_a_masked_total_needs_masked_parts_in_every_group():
    cells = {
        "x1": cell(5, 5, 5),
        "x2": cell(6, 6, 6),
        "y1": cell(4, 4, 4),
        "y2": cell(7, 7, 7),
        "t": cell(1000, 1, 1),  # dominated: primary
    }
    groups = [Group(("x1", "x2"), "t"), Group(("y1", "y2"), "t")]
    masked = suppress(cells, groups)
    assert "t" in masked
    assert masked & {"x1", "x2"} and masked & {"y1", "y2"}
    assert suppress(cells, groups) == masked  # deterministic
    assert suppress(dict(reversed(list(cells.items()))), groups[::-1]) == masked
