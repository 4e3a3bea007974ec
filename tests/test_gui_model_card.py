"""Model > Model info: the card as HTML says what the model covers and lists each source."""

from __future__ import annotations

from petseg_gui.ui.dialogs import card_html


def test_card_html_leads_with_the_description_and_tables_each_source() -> None:
    card = {
        "name": "pets-people-288",
        "description": "Finds cats, dogs and people.",
        "input_size": 288,
        "training": {
            "data": {
                "sources": [
                    {"name": "oxford-pets-sample", "train_count": 271, "licence": "CC BY-SA"},
                    {"name": "people", "train_count": 192, "class3": "boundary"},
                ]
            }
        },
    }
    page = card_html(card, None)
    assert page.index("Finds cats, dogs and people.") < page.index("input_size")
    assert page.count("Finds cats") == 1  # not repeated in the plain-key table
    # Each source is its own table with readable keys, not a Python dict's repr.
    assert "{'name'" not in page
    assert "<b>licence</b></td><td>CC BY-SA" in page
    assert "<b>train_count</b></td><td>192" in page
