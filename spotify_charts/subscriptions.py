"""Subscriptions to chart events: SNS subscriptions of the stack's ``ChartEventsTopic`` whose
filter policies say which events a subscriber gets (``spotify-charts subscribe``,
``subscriptions``, ``unsubscribe``).

The attributes a policy can match are the ones the Lambdas publish
(``producer.event_publisher.ATTRIBUTES``). A policy here names values of up to three of them,
and SNS delivers an event when every named attribute has one of its values: ``--chart C
--artist A --event CLIMB --event EXIT`` is "chart C, artist A, a CLIMB or an EXIT". Artist
names become the keys events carry, found in the views case-insensitively: a Spotify artist
id on playlists, the credited string on imported exports (which credit one string per track,
so 'Bizarrap, Milo j' is an artist of its own there: the command names such credits).
"""
from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from producer.chart_events import EVENTS
from producer.event_publisher import ARTIST_IDS, CHART, EVENT, POSITION, TRACK_ID
from spotify_charts.commands import CommandError

TOPIC_VARIABLE = "CHART_EVENTS_TOPIC_ARN"
# SNS refuses a policy whose values, multiplied across its keys, are more than this.
MAX_COMBINATIONS = 150
PENDING = "PendingConfirmation"
WORDS = {CHART: "chart", EVENT: "event", ARTIST_IDS: "artist", TRACK_ID: "track", POSITION: "position"}


class ArtistNotFoundError(CommandError):
    """An artist name matches no artist of any chart the views hold."""


class FilterPolicyError(CommandError):
    """A subscription asked for nothing, or for more than SNS takes."""


@dataclass(frozen=True)
class ArtistKeys:
    name: str  # as asked
    keys: tuple[str, ...]  # what events carry for it
    credits: tuple[str, ...]  # other credited strings that hold the name (export charts)


def resolve_artists(artists: Sequence[dict[str, Any]], names: Iterable[str]) -> list[ArtistKeys]:
    """Each name's keys, from ``views.chart_artists`` rows, case-insensitively; an unknown
    name is an :class:`ArtistNotFoundError` listing near matches."""
    keys_of: dict[str, set[str]] = {}
    spelled: dict[str, str] = {}
    for row in artists:
        if not row["artist_name"]:
            continue
        folded = row["artist_name"].casefold()
        keys_of.setdefault(folded, set()).add(row["artist_key"])
        spelled.setdefault(folded, row["artist_name"])
    found = []
    for name in names:
        folded = name.strip().casefold()
        credits = tuple(sorted(spelled[n] for n in keys_of if folded in n and n != folded))
        if folded not in keys_of:
            near = difflib.get_close_matches(folded, list(keys_of), n=5, cutoff=0.6)
            suggestions = [spelled[n] for n in near] + [c for c in credits if c.casefold() not in near][:5]
            raise ArtistNotFoundError(f"no artist named {name!r} on any chart the views hold"
                                      + (f"; near matches: {', '.join(map(repr, suggestions))}" if suggestions else ""))
        found.append(ArtistKeys(name, tuple(sorted(keys_of[folded])), credits))
    return found


def filter_policy(charts: Sequence[str] = (), artist_keys: Sequence[str] = (), events: Sequence[str] = ()) -> dict:
    """The filter policy of a subscription to exactly these charts, artists and events."""
    policy: dict[str, list[str]] = {}
    if charts:
        policy[CHART] = sorted(set(charts))
    if artist_keys:
        policy[ARTIST_IDS] = sorted(set(artist_keys))
    if events:
        unknown = sorted(set(events) - set(EVENTS))
        if unknown:
            raise FilterPolicyError(f"unknown events {unknown}: choose from {', '.join(EVENTS)}")
        policy[EVENT] = [event for event in EVENTS if event in events]
    if not policy:
        raise FilterPolicyError("say what to subscribe to: --chart, --artist and/or --event")
    combinations = math.prod(len(values) for values in policy.values())
    if combinations > MAX_COMBINATIONS:
        raise FilterPolicyError(f"{combinations} combinations of charts, artists and events: SNS takes at most "
                                f"{MAX_COMBINATIONS} in one subscription; split it into several")
    return policy


def describe_policy(policy: dict | None) -> str:
    """A filter policy in words: 'chart is X, and event is A or B'."""
    if not policy:
        return "every chart event"
    parts = []
    for key, values in policy.items():
        if key.startswith("$"):  # an $or a person wrote: shown as written
            parts.append(json.dumps({key: values}))
            continue
        words = [_value_words(value) for value in (values if isinstance(values, list) else [values])]
        parts.append(f"{WORDS.get(key, key)} is {' or '.join(words)}")
    return ", and ".join(parts)


def _value_words(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["numeric"]:
        return " and ".join(f"{op} {number}" for op, number in zip(value["numeric"][::2], value["numeric"][1::2]))
    return json.dumps(value)


def subscribe(sns, topic_arn: str, protocol: str, endpoint: str, policy: dict) -> str:
    """Create the subscription; its ARN ('pending confirmation' until an email or HTTPS
    endpoint confirms it)."""
    answer = sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, ReturnSubscriptionArn=True,
                           Attributes={"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageAttributes"})
    return answer["SubscriptionArn"]


def queue_policy_statement(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """What a queue's policy needs so that the topic may deliver to it."""
    return {"Sid": f"ChartEvents-{topic_arn.rsplit(':', 1)[-1]}"[:100], "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}


def allow_topic(sqs, queue_arn: str, topic_arn: str) -> bool:
    """Add the statement letting the topic send to the queue (False: it was there already)."""
    _, _, _, _, account, name = queue_arn.split(":", 5)
    url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    policy = json.loads(current.get("Policy") or '{"Version": "2012-10-17", "Statement": []}')
    statement = queue_policy_statement(queue_arn, topic_arn)
    if any(s.get("Sid") == statement["Sid"] for s in policy["Statement"]):
        return False
    policy["Statement"].append(statement)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return True


@dataclass(frozen=True)
class Subscription:
    arn: str
    protocol: str
    endpoint: str
    policy: dict | None

    def to_json(self) -> dict[str, Any]:
        return {"arn": self.arn, "protocol": self.protocol, "endpoint": self.endpoint, "filter_policy": self.policy,
                "receives": describe_policy(self.policy)}


def list_subscriptions(sns, topic_arn: str) -> list[Subscription]:
    found = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for item in page["Subscriptions"]:
            policy = None
            if item["SubscriptionArn"] != PENDING:  # a pending one has no attributes to read yet
                attributes = sns.get_subscription_attributes(SubscriptionArn=item["SubscriptionArn"])["Attributes"]
                policy = json.loads(attributes["FilterPolicy"]) if attributes.get("FilterPolicy") else None
            found.append(Subscription(item["SubscriptionArn"], item["Protocol"], item["Endpoint"], policy))
    return found


def unsubscribe(sns, topic_arn: str, subscription_arn: str) -> None:
    if not subscription_arn.startswith(topic_arn + ":"):
        raise CommandError(f"{subscription_arn} is not a subscription of the chart events topic {topic_arn} "
                           "(spotify-charts subscriptions lists them)")
    sns.unsubscribe(SubscriptionArn=subscription_arn)
