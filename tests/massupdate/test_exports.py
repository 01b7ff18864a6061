"""Cells of the CSV exports: what a spreadsheet would run as a formula is neutralised."""

import pytest

from crmadmin.massupdate.exports import safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("-12.5", "-12.5"),
        ("+44", "+44"),
        ("Lisbon", "Lisbon"),
        (None, ""),
        (42, "42"),
    ],
)
def test_formula_like_cells_get_a_leading_quote_and_plain_numbers_do_not(value, cell):
    assert safe_cell(value) == cell
