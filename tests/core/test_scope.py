"""A deck or topic named by a unique end of its path, or told what it may have meant."""

from __future__ import annotations

import pytest

from flashcore.core.errors import NotFoundError, UsageError
from flashcore.core.scope import resolve

DECKS = ["Step 1::Immunology", "Step 1::Pathology", "Other::Pathology", "Misc"]


def deck(name: str) -> str:
    return resolve(name, DECKS, option="--deck", listing="flashcore decks list", exact=["imm"])


def test_a_full_name_a_parent_or_a_key_is_kept_as_it_is():
    assert deck("Step 1::Immunology") == "Step 1::Immunology"
    assert deck("Step 1") == "Step 1"
    assert deck("imm") == "imm"


def test_a_unique_end_of_a_path_names_the_whole_path_whatever_the_case():
    assert deck("Immunology") == "Step 1::Immunology"
    assert deck("immunology") == "Step 1::Immunology"
    assert deck("step 1::immunology") == "Step 1::Immunology"


def test_an_end_shared_by_several_paths_is_a_usage_error_naming_them():
    with pytest.raises(UsageError, match="'Other::Pathology', 'Step 1::Pathology'; give more"):
        deck("Pathology")


def test_an_unknown_name_says_what_it_may_have_meant():
    with pytest.raises(NotFoundError) as caught:
        deck("Immuno")
    assert str(caught.value) == (
        "no deck named 'Immuno'; did you mean 'Step 1::Immunology'? (see `flashcore decks list`)"
    )


def test_an_unknown_name_with_nothing_close_names_the_listing_only():
    with pytest.raises(
        NotFoundError, match=r"^no deck named 'zzz' \(see `flashcore decks list`\)$"
    ):
        deck("zzz")
