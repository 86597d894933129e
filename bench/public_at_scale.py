"""`/bug show … public` at any channel size: the Slack calls and time one `public` decision costs, from the
guest / outsider map (bot/slack/directory.py) against asking `users.info` about every member (the first
design), side by side on the fake Slack over real HTTP, unpaced (Slack's pacing would add ~0.6 s per
users.info call past a burst of 20: Tier 4 is about 100 a minute).

    python -m bench.public_at_scale --members 400 2000
"""

from __future__ import annotations

import argparse
import time

from slack_sdk import WebClient

from bot.slack.directory import Directory
from bot.slack.readers import Readers
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import zendesk_record

CHANNEL = "C0BUGS"
TIER_4_PER_MINUTE = 100


def measure(members: int) -> dict[str, float]:
    crowd = [f"U0M{n:05d}" for n in range(members)]
    with FakeSlack(members={CHANNEL: crowd}) as fake:
        client = WebClient(token="xoxb-bench", base_url=fake.api_url)
        directory = Directory(client, "T0FAKE")
        started = time.perf_counter()
        directory.refresh()  # once, in the background, at start
        map_seconds = time.perf_counter() - started
        map_calls = fake.calls.count("users.list")
        readers = Readers(client, (CHANNEL,), directory=directory)
        before = len(fake.calls)
        started = time.perf_counter()
        problem = readers.public_problem(CHANNEL, [zendesk_record(1)])
        public_seconds = time.perf_counter() - started
        public_calls = len(fake.calls) - before
        assert problem is None, problem
        before = len(fake.calls)
        started = time.perf_counter()
        for member in crowd:  # the first design: one users.info per member
            client.users_info(user=member)
        per_member_seconds = time.perf_counter() - started
        per_member_calls = len(fake.calls) - before
    return {
        "members": members,
        "map: users.list pages": map_calls,
        "map: seconds (once)": map_seconds,
        "public: Slack calls": public_calls,
        "public: seconds": public_seconds,
        "per member: users.info calls": per_member_calls,
        "per member: seconds unpaced": per_member_seconds,
        "per member: seconds at Tier 4": max(0.0, (per_member_calls - 20) * 60 / TIER_4_PER_MINUTE),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[400, 2000])
    args = parser.parse_args()
    rows = [measure(n) for n in args.members]
    for name in rows[0]:
        cells = "  ".join(
            f"{row[name]:>10.3f}" if isinstance(row[name], float) else f"{row[name]:>10}" for row in rows
        )
        print(f"{name:<32}{cells}")


if __name__ == "__main__":
    main()
