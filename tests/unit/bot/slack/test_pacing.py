"""Each Slack method paced by its own tier (bot/slack/pacing.py), on a fake clock."""

from bot.slack.pacing import MethodPacing


def pacing():
    now = [0.0]
    return MethodPacing(clock=lambda: now[0]), now


def test_posts_are_paced_per_channel_after_a_short_burst():
    paced, now = pacing()
    delays = [paced.delay("chat.postMessage", "C1") for _ in range(5)]
    assert delays[:3] == [0.0, 0.0, 0.0] and delays[3:] == [1.0, 2.0]  # ~1 a second once the burst is spent
    assert paced.delay("chat.postMessage", "C2") == 0.0  # another channel is not held up
    now[0] = 10.0
    assert paced.delay("chat.postMessage", "C1") == 0.0  # refilled meanwhile


def test_card_updates_share_one_tier_3_budget_across_channels():
    paced, _ = pacing()
    delays = [paced.delay("chat.update", f"C{n}") for n in range(12)]
    assert delays[:10] == [0.0] * 10  # Tier 3 tolerates a burst
    assert delays[10:] == [1.2, 2.4]  # then 50 a minute for the whole app, whatever the channel
    assert paced.delay("views.publish") == 0.0  # another method, its own budget


def test_a_429_holds_back_only_its_method():
    paced, now = pacing()
    paced.hold("chat.update", 30)
    assert paced.delay("chat.update", "C1") == 30.0 and paced.held("chat.update") == 30.0
    assert paced.delay("chat.postMessage", "C1") == 0.0 and paced.delay("conversations.history") == 0.0
    assert paced.delay("auth.test") == 0.0  # not in the table: never paced
    now[0] = 31.0
    assert paced.held("chat.update") == 0.0 and paced.delay("chat.update", "C1") == 0.0
