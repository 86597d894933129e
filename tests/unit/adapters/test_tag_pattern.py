"""The linear-time tag pattern reads and removes exactly what the earlier, backtracking one did."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack_message import _TAG, without_tags

# The tag pattern as it was (quadratic on markup runs): the reference the linear one must agree with.
_OLD_TAG = re.compile(
    r"(?<![A-Za-z0-9])[`*_~]*(?P<key>ticket[ _-]?id|priority)[`*_~]*[ \t]*[=:][ \t]*[`*_~\"']*"
    r"(?P<value>[^\s`*~\"']*)",
    re.IGNORECASE,
)
_tag_soup = st.lists(
    st.sampled_from([*"`*_~ \t=:\"'aZ1-.", "ticketId", "ticket id", "Priority", "ZD-1"]), max_size=30
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_tag_soup)
def test_the_linear_tag_pattern_reads_and_removes_exactly_what_the_old_one_did(text):
    assert [(m["key"], m["value"], m.end()) for m in _TAG.finditer(text)] == [
        (m["key"], m["value"], m.end()) for m in _OLD_TAG.finditer(text)
    ]
    assert without_tags(text) == _OLD_TAG.sub("", text)
