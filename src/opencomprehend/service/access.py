"""What a request may reach: the caller's own records (owned), and, at Start and Create, what it names for the
work to use: its data access role, its keys.

Where the spec leaves it open (gap 9), a DataAccessRoleArn that the caller's account does not have in
the role registry is refused at once, as InvalidRequestException, rather than failing the job later:
the caller learns before anything runs. Whether the role may read the input and write the output is
found when the work runs, as on Comprehend (NO_READ_ACCESS_TO_INPUT, NO_WRITE_ACCESS_TO_OUTPUT).
"""

from __future__ import annotations

from collections.abc import Callable

from opencomprehend.jobs.records import RecordStore
from opencomprehend.jobs.rows import R
from opencomprehend.service.errors import ServiceError, invalid_request, resource_not_found
from opencomprehend.service.registry import Environment, RequestContext


def owned(
    store: RecordStore[R], ctx: RequestContext, key: str, missing: Callable[[str], ServiceError] = resource_not_found
) -> R:
    """The caller's record under `key`; another account's or region's is as good as absent: `missing(key)`
    (ResourceNotFoundException by default; JobNotFoundException for jobs)."""
    record = store.get_for(ctx.account_id, ctx.region, key)
    if record is None:
        raise missing(key)
    return record


def check_role(env: Environment, ctx: RequestContext, role_arn: str) -> None:
    if env.roles is None:  # development mode: every role reaches the local buckets
        return
    if env.roles.get(role_arn, ctx.account_id) is None:
        raise invalid_request(
            f"The data access role {role_arn} does not exist in account {ctx.account_id}, or Amazon Comprehend "
            "cannot assume it."
        )


def check_kms_keys(env: Environment, ctx: RequestContext, **references: str | None) -> None:
    """Every KMS key the request names (OutputDataConfig.KmsKeyId, VolumeKmsKeyId, ModelKmsKeyId) must be
    an enabled key of the caller's account and region in the keyring: else KmsKeyValidationException."""
    for member, reference in references.items():
        if reference is None:
            continue
        if env.keys is None or env.keys.resolve(reference, ctx.account_id, ctx.region) is None:
            raise ServiceError(
                "KmsKeyValidationException",
                f"The KMS key {reference} given as {member} does not exist in account {ctx.account_id} "
                f"({ctx.region}), or it is disabled.",
            )
