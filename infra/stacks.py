"""Create or update a CloudFormation stack through a change set, and wait for it.

Works the same against AWS, LocalStack or moto: the client decides where it
talks (boto3 reads ``AWS_ENDPOINT_URL``). Progress goes to ``log`` (stderr by
default); nothing here prints parameter values, so NoEcho values stay hidden.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from botocore.exceptions import ClientError

# A change set with nothing to do fails with one of these reasons.
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed", "No changes")
_BUSY = "_IN_PROGRESS"
_FAILED_STATUSES = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
                    "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_COMPLETE"}


class DeployError(RuntimeError):
    """The stack could not be created, updated or deleted."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class StackDeployer:
    cfn: Any  # a boto3 CloudFormation client
    poll_seconds: float = 5.0
    timeout_seconds: float = 3600.0
    log: Callable[[str], None] = _stderr
    _seen_events: set[str] = field(default_factory=set)
    _this_run: list[dict[str, Any]] = field(default_factory=list)  # events since the operation started

    # --- reading ------------------------------------------------------------
    def describe(self, name: str) -> dict[str, Any] | None:
        try:
            return self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as error:
            if "does not exist" in str(error):
                return None
            raise

    def outputs(self, name: str) -> dict[str, str]:
        stack = self.describe(name) or {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def parameters(self, name: str) -> dict[str, str]:
        """The stack's current parameter values (NoEcho ones read as '****')."""
        stack = self.describe(name) or {}
        return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}

    # --- deploying ----------------------------------------------------------
    def deploy(
        self,
        name: str,
        *,
        template_body: str | None = None,
        template_url: str | None = None,
        template_parameters: set[str],
        parameters: Mapping[str, str],
        capabilities: tuple[str, ...] = (),
        execute: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> bool:
        """Create or update ``name``; returns False when there was nothing to change.

        Template parameters not given keep their current value on an update
        (``UsePreviousValue``) and take the template default on a create.
        """
        unknown = sorted(set(parameters) - template_parameters)
        if unknown:
            raise DeployError(f"{name}: the template has no parameters {', '.join(unknown)}")
        stack = self._ready_stack(name)
        change_set_type = "UPDATE" if stack else "CREATE"
        current = {p["ParameterKey"] for p in (stack or {}).get("Parameters", [])}
        cfn_parameters = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(parameters.items())]
        cfn_parameters += [{"ParameterKey": k, "UsePreviousValue": True}
                           for k in sorted((template_parameters & current) - set(parameters))]
        template = {"TemplateBody": template_body} if template_body is not None else {"TemplateURL": template_url}
        change_set_name = f"deploy-{time.strftime('%Y%m%d-%H%M%S')}"
        self.log(f"{name}: creating {change_set_type.lower()} change set {change_set_name}")
        created = self.cfn.create_change_set(
            StackName=name, ChangeSetName=change_set_name, ChangeSetType=change_set_type,
            Parameters=cfn_parameters, Capabilities=list(capabilities),
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()], **template,
        )
        change_set_id = created["Id"]
        change_set = self._wait_for_change_set(change_set_id)
        if change_set["Status"] == "FAILED":
            reason = change_set.get("StatusReason", "")
            if any(marker in reason for marker in _NO_CHANGES):
                self.log(f"{name}: no changes")
                self.cfn.delete_change_set(ChangeSetName=change_set_id)
                return False
            raise DeployError(f"{name}: change set failed: {reason}")
        self._log_changes(name, change_set)
        if not execute:
            self.log(f"{name}: change set {change_set_name} left for review (not executed)")
            return True
        self._seen_events = {e["EventId"] for e in self._events(name)}  # older events are not this run's
        self._this_run = []
        self.cfn.execute_change_set(ChangeSetName=change_set_id)
        final = self._wait_for_stack(name)
        if final in _FAILED_STATUSES or not final.endswith("_COMPLETE"):
            raise DeployError(f"{name}: {final}; failed resources: {self._failure_reasons(name) or 'see stack events'}")
        self.log(f"{name}: {final}")
        return True

    def delete(self, name: str) -> None:
        if self.describe(name) is None:
            self.log(f"{name}: does not exist")
            return
        self.log(f"{name}: deleting")
        self._seen_events = {e["EventId"] for e in self._events(name)}
        self._this_run = []
        self.cfn.delete_stack(StackName=name)
        final = self._wait_for_stack(name, deleting=True)
        if final != "DELETE_COMPLETE":
            raise DeployError(f"{name}: {final}; {self._failure_reasons(name) or 'see stack events'}")
        self.log(f"{name}: DELETE_COMPLETE")

    # --- helpers ------------------------------------------------------------
    def _ready_stack(self, name: str) -> dict[str, Any] | None:
        """The stack to update, or None to create it (clearing a failed first create)."""
        stack = self.describe(name)
        if stack is None:
            return None
        status = stack["StackStatus"]
        if status == "REVIEW_IN_PROGRESS":  # a create change set was never executed
            return None
        if status.endswith(_BUSY):
            raise DeployError(f"{name} is busy ({status}); wait for it to finish and run again")
        if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"):
            # A failed first create cannot be updated, only deleted; it holds no data.
            self.log(f"{name}: {status} from a failed create; deleting it before creating it again")
            self.delete(name)
            return None
        return stack

    def _wait_for_change_set(self, change_set_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 600
        while True:
            change_set = self.cfn.describe_change_set(ChangeSetName=change_set_id)
            if change_set["Status"] in ("CREATE_COMPLETE", "FAILED"):
                return change_set
            if time.monotonic() > deadline:
                raise DeployError(f"change set {change_set_id} still {change_set['Status']} after 600 s")
            time.sleep(min(self.poll_seconds, 2.0))

    def _wait_for_stack(self, name: str, deleting: bool = False) -> str:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            stack = self.describe(name)
            if stack is None:
                return "DELETE_COMPLETE" if deleting else "MISSING"
            for event in self._new_events(name):
                reason = f" - {event['ResourceStatusReason']}" if "FAILED" in event.get("ResourceStatus", "") \
                    and event.get("ResourceStatusReason") else ""
                self.log(f"  {event['ResourceStatus']:<22} {event['LogicalResourceId']} "
                         f"({event.get('ResourceType', '')}){reason}")
            status = stack["StackStatus"]
            if not status.endswith(_BUSY):
                return status
            if time.monotonic() > deadline:
                raise DeployError(f"{name} still {status} after {self.timeout_seconds:.0f} s")
            time.sleep(self.poll_seconds)

    def _events(self, name: str) -> list[dict[str, Any]]:
        try:
            return self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except ClientError:
            return []

    def _new_events(self, name: str) -> list[dict[str, Any]]:
        fresh = [e for e in self._events(name) if e["EventId"] not in self._seen_events]
        self._seen_events.update(e["EventId"] for e in fresh)
        fresh.reverse()  # the API lists newest first
        self._this_run.extend(fresh)
        return fresh

    def _failure_reasons(self, name: str) -> str:
        """Why resources failed in this operation (not in earlier ones)."""
        self._new_events(name)
        reasons = [f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}" for e in self._this_run
                   if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")
                   and e["LogicalResourceId"] != name]
        return "; ".join(dict.fromkeys(reasons))

    def _log_changes(self, name: str, change_set: dict[str, Any]) -> None:
        changes = [c["ResourceChange"] for c in change_set.get("Changes", []) if "ResourceChange" in c]
        self.log(f"{name}: {len(changes)} resource change(s)")
        for change in changes:
            replacement = " (replacement)" if change.get("Replacement") == "True" else ""
            self.log(f"  {change.get('Action', '?'):<7} {change.get('LogicalResourceId')} "
                     f"({change.get('ResourceType')}){replacement}")
