"""Shortcut's `next` is followed on the API's own host only: a `next` naming another host would carry the
Shortcut-Token there."""

import pytest

from adapters.pull import UpstreamError
from adapters.shortcut_pull import next_url

API = "https://api.app.shortcut.com/api/v3"


def test_a_relative_next_stays_on_the_api_host():
    assert next_url(API, "/api/v3/search/stories?query=type%3Abug&next=a1") == (
        "https://api.app.shortcut.com/api/v3/search/stories?query=type%3Abug&next=a1"
    )


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example/api/v3/search/stories?next=a1",
        "//evil.example/api/v3/search/stories",
        "http://api.app.shortcut.com/api/v3/search/stories",  # the same host without TLS
        "https://api.app.shortcut.com.evil.example/api/v3",
    ],
)
def test_a_next_on_another_host_or_scheme_is_refused(elsewhere):
    with pytest.raises(UpstreamError, match="another host"):
        next_url(API, elsewhere)
