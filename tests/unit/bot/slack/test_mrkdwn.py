"""Escaping, links and truncation: outside text never becomes markup, and cuts never split markup."""

import re

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack_message import plain_from_slack, title_of, unescape
from bot.slack import mrkdwn
from tests.support.slack_payload import live_markup

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S1>",
    "<https://evil.example|Zendesk ZD-777>",
    "&lt;!channel&gt;",
    "<@U0ALICE>",
    "<#C0GENERAL>",
    "a & b > c < d",
]
# Text with plenty of the characters that matter.
markup_text = st.text(alphabet=st.sampled_from(list("<>&|!@#^;:/ab.lt gamp\n*`")), max_size=200) | st.text()


def entities_whole(text):
    """Every & in escaped mrkdwn starts a complete entity."""
    return all(re.match(r"&(amp|lt|gt);", text[i:]) for i in range(len(text)) if text[i] == "&")


@given(markup_text)
def test_escaped_text_has_no_markup_and_reads_back_as_typed(text):
    escaped = mrkdwn.escape(text)
    assert "<" not in escaped and ">" not in escaped and entities_whole(escaped)
    assert unescape(escaped) == mrkdwn.printable(text)  # control and bidi characters dropped


@given(markup_text, st.integers(min_value=0, max_value=300))
def test_truncation_never_cuts_an_entity_or_a_span(text, limit):
    built = (
        mrkdwn.escape(text)
        + mrkdwn.link("https://acme.zendesk.com/agent/tickets/1", text)
        + mrkdwn.escape(text)
    )
    cut = mrkdwn.truncate(built, limit)
    assert len(cut) <= max(limit, 1) and entities_whole(cut.removesuffix(mrkdwn.ELLIPSIS))
    body = cut.removesuffix(mrkdwn.ELLIPSIS)
    assert body.count("<") == body.count(">")  # a span is whole or absent
    assert live_markup({"text": cut}, ["https://acme.zendesk.com/"]) == []


def test_truncate_keeps_short_text_and_marks_a_cut():
    assert mrkdwn.truncate("short", 10) == "short"
    assert mrkdwn.truncate("a &amp; b", 5) == "a …"  # not "a &a…"
    assert mrkdwn.truncate("see <https://x.example/1|one> now", 12) == "see …"
    assert mrkdwn.truncate_plain("abcdef", 4) == "abc…"


@given(markup_text)
def test_links_only_for_http_urls_the_label_is_escaped(label):
    made = mrkdwn.link("https://acme.zendesk.com/agent/tickets/5", label)
    assert made.startswith("<https://acme.zendesk.com/agent/tickets/5|")
    assert made.count("<") == 1 and made.count(">") == 1 and made.count("|") >= 1
    assert live_markup({"text": made}, ["https://acme.zendesk.com/agent/tickets/5"]) == []


def test_a_url_that_could_break_out_of_the_markup_is_not_linked():
    for url in ["javascript:alert(1)", "https://x.example/a|b", "https://x.example/<!channel>", "", None,
                "https://x.example/a b", "ftp://x.example/"]:  # fmt: skip
        assert "<" not in mrkdwn.link(url, "label <!here>")


def test_plain_from_slack_makes_mentions_inert_and_links_honest():
    assert plain_from_slack("<!channel> <!here|here> <!everyone>") == "@channel @here @everyone"
    assert plain_from_slack("<!subteam^S1> <!subteam^S2|@devs>") == "@S1 @devs"
    assert plain_from_slack("<@U1> <@U2|ann> <#C1> <#C2|bugs>") == "@U1 @ann #C1 #bugs"
    assert (
        plain_from_slack("<https://evil.example|Zendesk ZD-777>") == "Zendesk ZD-777 (https://evil.example)"
    )
    assert (
        plain_from_slack("<https://ok.example> <mailto:a@b.example|a@b.example>")
        == "https://ok.example a@b.example"
    )
    assert plain_from_slack("&lt;!channel&gt; &amp;lt;") == "<!channel> &lt;"  # as the person typed it
    assert plain_from_slack(None) == ""


def test_titles_are_plain_text_of_what_the_person_read():
    assert title_of("<!channel> checkout is down") == "@channel checkout is down"
    assert (
        title_of("<https://evil.example|Zendesk ZD-777> broken")
        == "Zendesk ZD-777 (https://evil.example) broken"
    )


@given(st.lists(st.sampled_from(HOSTILE + ["plain", "*bold*", "x" * 50]), max_size=40))
def test_a_section_of_escaped_hostile_text_is_inert_and_bounded(parts):
    text = " ".join(parts) * 20
    for block in (mrkdwn.section(mrkdwn.escape(text)), mrkdwn.context(mrkdwn.escape(text))):
        payload = {"blocks": [block]}
        assert live_markup(payload) == []
        obj = block["text"] if "text" in block else block["elements"][0]
        assert 1 <= len(obj["text"]) <= mrkdwn.SECTION_LIMIT and obj["verbatim"] is True


def test_header_button_and_blocks_are_bounded():
    assert len(mrkdwn.header("x" * 500)["text"]["text"]) == mrkdwn.HEADER_LIMIT
    assert mrkdwn.header("")["text"]["text"] == " "  # Slack refuses an empty text
    made = mrkdwn.button("a", "y" * 100, "z" * 5000)
    assert len(made["text"]["text"]) <= 75 and len(made["value"]) <= 2000
    blocks = [mrkdwn.section(str(n)) for n in range(80)]
    fitted = mrkdwn.fit_blocks(blocks)
    assert len(fitted) == mrkdwn.MAX_BLOCKS and "31 more block(s)" in fitted[-1]["elements"][0]["text"]
    assert mrkdwn.fit_blocks(blocks[:3]) == blocks[:3]


def test_message_text_is_escaped_bounded_and_never_empty():
    assert mrkdwn.message_text("<!channel> & co") == "&lt;!channel&gt; &amp; co"
    assert mrkdwn.message_text("") == " "
    long = mrkdwn.message_text("<" * 50_000, limit=mrkdwn.MESSAGE_TEXT_LIMIT)
    assert len(long) <= mrkdwn.MESSAGE_TEXT_LIMIT and entities_whole(long.removesuffix(mrkdwn.ELLIPSIS))


def test_printable_drops_terminal_control_characters():
    assert mrkdwn.printable("ok\x1b[31mred\x1b[0m\u202eevil\tx\ny") == "ok[31mred[0mevil\tx\ny"
    # bidi marks (LRM, RLM, Arabic letter mark) and zero-width / invisible characters too
    assert mrkdwn.printable("Z\u200eD\u200f-\u061c1\u200b2\u200c3\u200d4\u2060\ufeff5\u180e") == "ZD-12345"


def test_the_payload_checker_sees_live_markup():
    payload = {
        "text": "<!here> ok",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<https://evil.example|x> <@U1>"}}],
    }
    assert live_markup(payload, ["https://acme.zendesk.com/"]) == [
        "<!here>",
        "<https://evil.example|x>",
        "<@U1>",
    ]


def test_mention_only_for_a_slack_user_id():
    assert mrkdwn.mention("U0ALICE") == "<@U0ALICE>" and mrkdwn.mention("W123ABC") == "<@W123ABC>"
    for other in ["cli", "!channel", "S0GROUP", "U1|x", "U0ALICE>", "<!here>", "", None, "u0alice"]:
        assert "<" not in mrkdwn.mention(other)


SUBJECT = (
    "Refund broken\n*Status of ZD-9* · state *done* _it_ ~gone~ `code` \u202eevil\u202c \u2066x\u2069 <!here>"
)


def test_inert_outside_text_is_one_line_that_cannot_format_ping_or_reorder():
    shown = mrkdwn.inert(SUBJECT)
    assert "\n" not in shown and not any(mark in shown for mark in "*_~`")
    assert not any(chr(c) in shown for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
    assert shown == ("Refund broken ∗Status of ZD-9∗ · state ∗done∗ ˍitˍ ∼gone∼ ˋcodeˋ evil x &lt;!here&gt;")


def test_bold_and_link_labels_hold_outside_text_inert():
    assert mrkdwn.bold("a* *b") == "*a∗ ∗b*"
    assert mrkdwn.link("https://acme.zendesk.com/agent/tickets/9", SUBJECT).count("*") == 0


def test_escape_and_plain_text_drop_bidi_controls_but_escape_keeps_the_bots_marks():
    assert mrkdwn.escape("*Stored* as `SL-1`\u202e\n") == "*Stored* as `SL-1`\n"
    assert mrkdwn.plain_text("a\u2067b\nc", 75) == {"type": "plain_text", "text": "ab c"}
