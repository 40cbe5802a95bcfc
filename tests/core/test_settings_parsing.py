"""Settings parsing (core.settings): each setting read from text with its range, one-line
errors naming the setting, and stored values that went out of range replaced, not fatal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashcore.core.errors import ConfigError
from flashcore.core.settings import (
    RULES,
    Settings,
    format_value,
    load_stored,
    parse_steps,
    parse_value,
    set_value,
    step_delta,
)


def test_set_value_parses_the_text_and_leaves_the_rest():
    s = set_value(Settings(), "new_per_day", " 30 ")
    assert s.new_per_day == 30 and s.reviews_per_day == Settings().reviews_per_day


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("desired_retention", "0.92", 0.92),
        ("bury_siblings", "false", False),
        ("learning_steps", "1m, 10m 1h", ("1m", "10m", "1h")),
        ("timezone", "America/New_York", "America/New_York"),
        ("plan_mode", "auto", "auto"),
        ("fsrs_parameters", "", ()),
    ],
)
def test_each_rule_reads_its_text(key, text, value):
    assert parse_value(key, text) == value


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("desired_retention", "0.5"),
        ("desired_retention", "nan"),
        ("new_per_day", "-1"),
        ("new_per_day", "ten"),
        ("day_start_hour", "24"),
        ("timezone", "Mars/Olympus"),
        ("learning_steps", "1x"),
        ("plan_mode", "sometimes"),
        ("fsrs_parameters", "1, 2, 3"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting_and_what_it_accepts(key, text):
    with pytest.raises(ConfigError) as info:
        parse_value(key, text)
    message = str(info.value)
    assert message.startswith(f"{key}: ") and "\n" not in message
    assert RULES[key].accepts in message


def test_an_unknown_setting_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown setting .*known: .*new_per_day"):
        set_value(Settings(), "new_per_dya", "10")


def test_steps_are_numbers_with_a_unit():
    assert parse_steps("30s 2h 1d") == ("30s", "2h", "1d")
    assert step_delta("1.5m") == timedelta(seconds=90)
    with pytest.raises(ConfigError):
        parse_steps("10")


def test_values_format_back_to_text_that_parses_to_the_same_value():
    s = Settings()
    for key in RULES:
        value = getattr(s, key)
        assert parse_value(key, format_value(value)) == value, key


def test_stored_values_out_of_range_fall_back_to_defaults_with_a_warning():
    settings, warnings = load_stored(
        {"new_per_day": 50, "desired_retention": 5.0, "from_a_newer_flashcore": 1}
    )
    assert settings.new_per_day == 50
    assert settings.desired_retention == Settings().desired_retention
    (warning,) = warnings
    assert warning.startswith("setting desired_retention = '5.0' is out of range (0.70 to 0.99)")
    assert "flashcore config set desired_retention" in warning
