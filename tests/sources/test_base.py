"""The source contract's skip reasons: every code explained to a person, French first."""

from __future__ import annotations

from loyaute.sources.base import REASON_TEXT, Reason, reason_text


def test_every_skip_reason_has_french_and_english_text() -> None:
    """A reason an operator reads in the summary is never a bare code (rule F6's examples)."""
    assert set(REASON_TEXT) == set(Reason)
    for reason, (fr, en) in REASON_TEXT.items():
        assert fr
        assert en
        assert fr != en
        assert reason_text(reason) == fr
        assert reason_text(reason.value, "en") == en
    assert reason_text("no_such_code") == "no_such_code"


def test_ambiguous_layout_says_what_to_look_for() -> None:
    assert "espace" in reason_text(Reason.AMBIGUOUS_LAYOUT)
    assert "space" in reason_text(Reason.AMBIGUOUS_LAYOUT, "en")
