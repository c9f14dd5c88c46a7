"""The producer's EventBridge schedule on LocalStack: off while the pipeline drives the
polls itself, on at ``poll_schedule`` for ``--keep-running``."""
from __future__ import annotations


class ProducerSchedule:
    """The producer's rule: invoking nothing, or the producer at ``poll_schedule``.

    Done through the rule's target, not its state: LocalStack 2026.3 creates a rule's
    timer when its targets are put and never stops it (DisableRule and PutRule change
    the rule, not the timer). With no target the timer invokes nothing; turning the
    schedule on re-creates the rule (same name and ARN, the new expression), so the
    next PutTargets starts a timer at that rate. On AWS DisableRule/PutRule would do.
    """

    def __init__(self, events, rule: str, poll_schedule: str):
        self.events, self.rule, self.poll_schedule = events, rule, poll_schedule
        self._target: dict | None = None  # the stack's own target, kept to put it back

    def set(self, enabled: bool) -> None:
        events, name = self.events, self.rule
        if self._target is None:
            [self._target] = events.list_targets_by_rule(Rule=name)["Targets"]
        if events.list_targets_by_rule(Rule=name)["Targets"]:
            events.remove_targets(Rule=name, Ids=[self._target["Id"]])
        if enabled:
            description = events.describe_rule(Name=name).get("Description", "")
            events.delete_rule(Name=name)
            events.put_rule(Name=name, ScheduleExpression=self.poll_schedule, State="ENABLED",
                            Description=description)
            events.put_targets(Rule=name, Targets=[self._target])
