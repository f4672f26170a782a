"""Mailchimp reports over real HTTP against the stand-in: proxy-excluded opens preferred."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from standins.mailchimp import MailchimpStandIn
from test_metrics_support import NOW, by_field, config_for, measures

from pipeline.metrics.base import Ref, make_source


@pytest.fixture
def standin() -> Iterator[MailchimpStandIn]:
    """A started Mailchimp stand-in."""
    with MailchimpStandIn(clock=lambda: NOW) as s:
        yield s


def _source(tmp_path: Path, standin: MailchimpStandIn):
    config, store = config_for(tmp_path, {"mailchimp": {"api_base": standin.api_base,
                                                        "account_id": standin.list_id}})
    return make_source("mailchimp", config.settings.channels["mailchimp"], standin.environ(),
                       metrics=config.settings.metrics, store=store, timeout=5)


def _ref(cid: str) -> Ref:
    return Ref(f"bulletin/{cid}", "mailchimp", cid, "bulletin", NOW - timedelta(hours=2))


REPORT = {
    "opens": {"opens_total": 1900, "unique_opens": 1200, "open_rate": 0.55,
              "proxy_excluded_opens": 900, "proxy_excluded_unique_opens": 600,
              "proxy_excluded_open_rate": 0.275},
    "clicks": {"clicks_total": 300, "unique_clicks": 220, "unique_subscriber_clicks": 180,
               "click_rate": 0.0825},
    "bounces": {"hard_bounces": 40, "soft_bounces": 15, "syntax_errors": 5},
    "unsubscribed": 7,
}


def test_report_measures_prefer_proxy_excluded_opens(tmp_path: Path,
                                                     standin: MailchimpStandIn) -> None:
    """delivered = sent - bounces; opens without Apple's proxy; people who clicked."""
    cid = standin.add_sent_campaign("Bulletin November", emails_sent=2241, **REPORT)
    result = _source(tmp_path, standin).collect([_ref(cid)], NOW)
    assert result.errors == []
    assert measures(result.snapshots, cid) == {
        "delivered": 2241 - 60, "bounces": 60, "unique_opens": 600, "open_rate": 0.275,
        "unique_clicks": 180, "click_rate": 0.0825, "unsubscribes": 7}
    fields = by_field(result.snapshots, cid)
    assert fields["opens.unique_opens"].value == 1200 and fields["opens.unique_opens"].measure is None
    assert fields["emails_sent"].api_version == "3.0"
    assert len(standin.report_calls) == 1 == result.calls_made


def test_an_unsent_campaign_has_no_report(tmp_path: Path, standin: MailchimpStandIn) -> None:
    """404: a missing snapshot saying so; the next bulletin is still read."""
    cid = standin.add_sent_campaign("Sent", **REPORT)
    result = _source(tmp_path, standin).collect([_ref("0123456789"), _ref(cid)], NOW)
    assert by_field(result.snapshots, "0123456789")["post"].missing
    assert measures(result.snapshots, cid)["unique_opens"] == 600


def test_revoked_key_is_an_error_without_it(tmp_path: Path, standin: MailchimpStandIn) -> None:
    """401 API Key Invalid: recorded, the key never in the message."""
    cid = standin.add_sent_campaign("Sent")
    key = standin.api_key
    source = _source(tmp_path, standin)
    standin.expire_token()
    result = source.collect([_ref(cid)], NOW)
    assert result.snapshots == [] and "401" in result.errors[0] and key not in result.errors[0]


def test_rate_limit_stops_the_round(tmp_path: Path, standin: MailchimpStandIn) -> None:
    """429: the other reports wait for the next round."""
    ids = [standin.add_sent_campaign(f"B{i}") for i in range(3)]
    standin.rate_limit()
    result = _source(tmp_path, standin).collect([_ref(i) for i in ids], NOW)
    assert result.rate_limited_until == NOW + timedelta(seconds=60)
    assert len(standin.report_calls) == 1 and result.snapshots == []
