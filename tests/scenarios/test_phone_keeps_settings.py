"""The phone brought back day after day keeps the profile's settings (found living with it,
issue rv7): the first import that brings Anki's history takes the Anki preset's FSRS
parameters and desired retention, but every later phone import set them again, over the
student's `config set desired_retention` and over `flashcore optimize`'s fitted parameters
(a daily round trip threw the fit away each morning). Now a later import keeps them and says
in a warning which of the preset's differ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.check import check
from tests import anki_history as ah
from tests.scenarios.test_anki_both_sides import phone_with_history


def added(fc: Flashcore, package) -> tuple[dict, list[str]]:
    (report,) = fc.add_decks([package], with_scheduling=True)
    assert report.ok, report.problems
    return report.scheduling.to_json(), list(report.scheduling.warnings)


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_a_later_phone_import_keeps_the_profile_s_settings(request, url_fixture, tmp_path):
    url = request.getfixturevalue(url_fixture)
    phone = phone_with_history(tmp_path)
    first = ah.export(phone, tmp_path / "phone-1.colpkg")
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        added(fc, first)
        assert fc.settings.desired_retention == 0.88  # the preset's, taken by the first
        fitted = " ".join(str(round(w * 1.05, 4)) for w in fc.policy.parameters)
        fc.config_set("fsrs_parameters", fitted)
        fc.config_set("desired_retention", "0.93")
        mine = fc.settings

        assert ah.answer_due(phone, ah.mixed(4)) > 0
        second = ah.export(phone, tmp_path / "phone-2.colpkg")
        clock.set(datetime.now(UTC) + timedelta(minutes=5))
        summary, warnings = added(fc, second)

        assert summary["reviews_added"] > 0
        assert fc.settings.desired_retention == 0.93
        assert fc.settings.fsrs_parameters == mine.fsrs_parameters
        assert fc.settings == mine
        assert any(
            "differs from this profile's settings (fsrs_parameters, desired_retention 0.88 "
            "there, 0.93 here)" in w
            for w in warnings
        ), warnings
        assert check(fc).problems == []
