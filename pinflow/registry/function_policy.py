"""Lambda resource-based policies (AddPermission, RemovePermission, GetPolicy) and reserved concurrency.

A policy belongs to a function and a qualifier (none, a version or an alias), as on Lambda, and its
RevisionId is the revision of what it belongs to: $LATEST's for the unqualified function (changed by
every AddPermission and RemovePermission, as Lambda changes it), the alias's for an alias, the
version's for a version. Statements are kept as GetPolicy shows them. Reserved concurrency is
recorded and reported (GetFunction, GetFunctionConcurrency, GetAccountSettings); the invoker does
not throttle by it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pinflow import arns, errors
from pinflow.registry import counters
from pinflow.registry import lambda_shapes as shapes
from pinflow.store import Store, Tx
from pinflow.store.repositories import functions as repo

POLICY_LIMIT = 20_480  # bytes of a function's resource-based policy
ACCOUNT_CONCURRENCY = 1000
MINIMUM_UNRESERVED = 100
_PRECONDITION = ("The Revision Id provided does not match the latest Revision Id. "
                 "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def _principal(principal: str) -> Any:
    """A Principal as Lambda writes it: a service, an account (its root), an ARN, or `*`."""
    if principal == "*":
        return "*"
    if arns.is_number(principal) and len(principal) == 12:
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def statement(sid: str, action: str, principal: str, resource: str, *, source_arn: str | None = None,
              source_account: str | None = None, event_source_token: str | None = None,
              principal_org_id: str | None = None, function_url_auth_type: str | None = None) -> dict[str, Any]:
    """A policy statement as AddPermission answers it and GetPolicy lists it."""
    made: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": _principal(principal), "Action": action,
                            "Resource": resource}
    condition: dict[str, dict[str, str]] = {}
    equals = {key: value for key, value in (("AWS:SourceAccount", source_account),
                                            ("lambda:EventSourceToken", event_source_token),
                                            ("aws:PrincipalOrgID", principal_org_id),
                                            ("lambda:FunctionUrlAuthType", function_url_auth_type)) if value}
    if equals:
        condition["StringEquals"] = equals
    if source_arn:
        condition["ArnLike"] = {"AWS:SourceArn": source_arn}
    if condition:
        made["Condition"] = condition
    return made


class FunctionPolicies:
    """Resource-based policies and reserved concurrency of the functions in the store."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def add_permission(self, function_name: str, qualifier: str | None, sid: str, action: str, principal: str,
                       revision_id: str | None = None, **conditions: str | None) -> dict[str, Any]:
        """AddPermission: one statement more in the policy of the function (or its version/alias).

        Returns:
            The statement added.

        Raises:
            ResourceNotFoundException: no such function, version or alias.
            ResourceConflictException: the statement id is taken.
            PreconditionFailedException: `revision_id` is not the current RevisionId.
            PolicyLengthExceededException: the policy would pass 20 KB.
        """
        ref = shapes.function_ref(function_name, qualifier)
        with self._store.transaction() as tx:
            current = self._revision(tx, ref)
            if revision_id is not None and revision_id != current:
                raise errors.PreconditionFailedException(_PRECONDITION)
            key = ref.qualifier or ""
            if repo.permission(tx, name=ref.name, qualifier=key, sid=sid) is not None:
                raise errors.ResourceConflictException(
                    f"The statement id ({sid}) provided already exists. Please specify a new statement id, or "
                    "remove the existing statement.")
            made = statement(sid, action, principal, arns.function(ref.name, ref.qualifier), **conditions)
            existing = [json.loads(row.statement) for row in repo.permissions(tx, name=ref.name, qualifier=key)]
            size = len(json.dumps(_policy([*existing, made])))
            if size > POLICY_LIMIT:
                raise errors.PolicyLengthExceededException(
                    f"The final policy size ({size}) is bigger than the limit ({POLICY_LIMIT}).")
            repo.add_permission(tx, name=ref.name, qualifier=key, sid=sid, statement=json.dumps(made))
            self._bump(tx, ref)
        return made

    def remove_permission(self, function_name: str, qualifier: str | None, sid: str,
                          revision_id: str | None = None) -> None:
        """RemovePermission.

        Raises:
            ResourceNotFoundException: no such function, version, alias or statement.
            PreconditionFailedException: `revision_id` is not the current RevisionId.
        """
        ref = shapes.function_ref(function_name, qualifier)
        with self._store.transaction() as tx:
            current = self._revision(tx, ref)
            if revision_id is not None and revision_id != current:
                raise errors.PreconditionFailedException(_PRECONDITION)
            if repo.delete_permission(tx, name=ref.name, qualifier=ref.qualifier or "", sid=sid) == 0:
                raise errors.ResourceNotFoundException(f"Statement {sid} is not found in resource policy.")
            self._bump(tx, ref)

    def get_policy(self, function_name: str, qualifier: str | None = None) -> dict[str, Any]:
        """GetPolicy: {"Policy": the policy as JSON text, "RevisionId"}.

        Raises:
            ResourceNotFoundException: no such function, version or alias, or it has no policy.
        """
        ref = shapes.function_ref(function_name, qualifier)
        with self._store.transaction(write=False) as tx:
            revision = self._revision(tx, ref)
            statements = [json.loads(row.statement)
                          for row in repo.permissions(tx, name=ref.name, qualifier=ref.qualifier or "")]
        if not statements:
            raise errors.ResourceNotFoundException("The resource you requested does not exist.")
        return {"Policy": json.dumps(_policy(statements), separators=(",", ":")), "RevisionId": revision}

    # --- reserved concurrency ----------------------------------------------------------------------

    def put_concurrency(self, function_name: str, reserved: int) -> int:
        """PutFunctionConcurrency.

        Raises:
            ResourceNotFoundException: no such function.
            InvalidParameterValueException: the account would keep fewer than 100 unreserved executions.
        """
        name = _unqualified(function_name)
        with self._store.transaction() as tx:
            _function_row(tx, name)
            others = repo.reserved_by_others(tx, name=name)
            if ACCOUNT_CONCURRENCY - others - reserved < MINIMUM_UNRESERVED:
                raise errors.InvalidParameterValueException(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [{MINIMUM_UNRESERVED}].")
            repo.set_reserved_concurrency(tx, name=name, reserved=reserved)
        return reserved

    def get_concurrency(self, function_name: str) -> int | None:
        """GetFunctionConcurrency: the reserved concurrency, None when none is set.

        Raises:
            ResourceNotFoundException: no such function.
        """
        name = _unqualified(function_name)
        with self._store.transaction(write=False) as tx:
            _function_row(tx, name)
            return repo.reserved_concurrency(tx, name=name)

    def delete_concurrency(self, function_name: str) -> None:
        """DeleteFunctionConcurrency.

        Raises:
            ResourceNotFoundException: no such function.
        """
        name = _unqualified(function_name)
        with self._store.transaction() as tx:
            _function_row(tx, name)
            repo.set_reserved_concurrency(tx, name=name, reserved=None)

    def account_settings(self) -> dict[str, Any]:
        """GetAccountSettings: Lambda's default account limits, and what the functions here use."""
        with self._store.transaction(write=False) as tx:
            reserved = repo.reserved_by_others(tx, name="")
            functions = repo.code_configs(tx)
        sizes = {(row.name, json.loads(row.config)["CodeSha256"]): json.loads(row.config)["CodeSize"]
                 for row in functions}
        return {
            "AccountLimit": {"TotalCodeSize": 80_530_636_800, "CodeSizeUnzipped": 262_144_000,
                             "CodeSizeZipped": 52_428_800, "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
                             "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY - reserved},
            "AccountUsage": {"TotalCodeSize": sum(sizes.values()),
                             "FunctionCount": len({name for name, _ in sizes})},
        }

    # --- inside a transaction ----------------------------------------------------------------------

    def _revision(self, tx: Tx, ref: arns.FunctionRef) -> str:
        """The RevisionId the policy of `ref` goes with (see the module's docstring)."""
        row = _function_row(tx, ref.name)
        qualifier = ref.qualifier
        if qualifier is None or qualifier == shapes.LATEST:
            return str(row.revision_id)
        if arns.is_number(qualifier):
            number = counters.number(qualifier)
            version = None if number is None else repo.version(tx, name=ref.name, version=number)
            if version is None:
                raise errors.ResourceNotFoundException(f"Function not found: {ref.arn}")
            return str(json.loads(version.config)["RevisionId"])
        alias = repo.alias(tx, name=ref.name, alias=qualifier)
        if alias is None:
            raise errors.ResourceNotFoundException(f"Cannot find alias arn: {ref.arn}")
        return str(json.loads(alias.config)["RevisionId"])

    def _bump(self, tx: Tx, ref: arns.FunctionRef) -> None:
        """A new RevisionId for what the policy belongs to ($LATEST or an alias; versions keep theirs)."""
        qualifier = ref.qualifier
        if qualifier is None or qualifier == shapes.LATEST:
            row = _function_row(tx, ref.name)
            repo.set_latest(tx, name=ref.name, latest=row.latest, revision_id=str(uuid.uuid4()))
        elif not arns.is_number(qualifier):
            alias = repo.alias(tx, name=ref.name, alias=qualifier)
            if alias is not None:
                stored = {**json.loads(alias.config), "RevisionId": str(uuid.uuid4())}
                repo.update_alias(tx, name=ref.name, alias=qualifier,
                                  config=json.dumps(stored, sort_keys=True, separators=(",", ":")))


def _policy(statements: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}


def _unqualified(function_name: str) -> str:
    ref = shapes.function_ref(function_name)
    if ref.qualifier is not None:
        raise errors.InvalidParameterValueException(
            "Function name must not be qualified: reserved concurrency belongs to the function.")
    return ref.name


def _function_row(tx: Tx, name: str) -> repo.Function:
    row = repo.function(tx, name=name)
    if row is None:
        raise errors.ResourceNotFoundException(f"Function not found: {arns.function(name)}")
    return row
