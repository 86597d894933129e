"""A message whose words are only in its blocks (a Workflow Builder post with an empty `text`)."""

from adapters.slack_message import message_to_record, parse_tags, text_of

RICH = {
    "type": "rich_text",
    "elements": [
        {
            "type": "rich_text_section",
            "elements": [
                {"type": "text", "text": "Export fails for <big> files & more "},
                {"type": "user", "user_id": "U0ALICE"},
                {"type": "text", "text": " priority=High ticketId=ZD-12"},
            ],
        }
    ],
}


def test_text_wins_when_it_is_there() -> None:
    assert text_of({"text": "typed", "blocks": [RICH]}) == "typed"


def test_an_empty_text_is_read_from_the_blocks_in_wire_form() -> None:
    text = text_of(
        {"text": "", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Bug"}}, RICH]}
    )
    assert (
        text == "Bug\nExport fails for &lt;big&gt; files &amp; more <@U0ALICE> priority=High ticketId=ZD-12"
    )
    tags = parse_tags(text)
    assert tags.priority == "High" and tags.ticket_id == "ZD-12"


def test_a_workflow_post_with_only_blocks_gets_its_title_and_tags() -> None:
    message = {"ts": "1700000000.000100", "text": "", "bot_id": "B0FORM", "blocks": [RICH]}
    record = message_to_record(message, "C0BUGS", parse_tags(text_of(message)))
    assert record.title.startswith("Export fails for <big> files & more") and record.priority == "High"


def test_blocks_beyond_slacks_fifty_are_not_read() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {n}"}} for n in range(80)]
    assert text_of({"text": "", "blocks": blocks}).splitlines()[-1] == "line 49"
