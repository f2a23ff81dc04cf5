"""TagResource, UntagResource and ListTagsForResource, and the tag rules Start and Create share with them.

A tag belongs to a resource ARN. Which ARNs name a resource is each family's business: a family
registers a lookup for its ARN resource type (`register_taggable("entity-recognizer", fn)`), and this
module never needs to know about it. A type nobody registered answers ResourceNotFoundException, as
does an ARN of another account, region or partition: one account never learns whether another's
resource exists.

Rules (spec 2.4): at most `max_tags` (50) tags per resource, counting those it has and the new ones;
keys starting with `aws:` are reserved, so they can be neither added nor removed and do not count; a
key already on the resource is overwritten; removing a key the resource lacks is not an error; one
UntagResource removes at most `max_tags` keys.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

from opencomprehend.jobs.schema import ENTITIES_JOB, LANGUAGE_JOB, PII_JOB
from opencomprehend.service.analysis_jobs import job_of_kind
from opencomprehend.service.errors import ServiceError, invalid_request, resource_not_found
from opencomprehend.service.registry import Environment, RequestContext, operation

RESERVED_PREFIX = "aws:"

# (env, ctx, resource id: the ARN's part after "<type>/") -> whether it exists in the caller's account and region.
TaggableLookup = Callable[[Environment, RequestContext, str], bool]
_TAGGABLE: dict[str, TaggableLookup] = {}

# Counting the tags a resource has and adding new ones are two statements; serialising them keeps
# concurrent TagResource calls on one node from passing the limit together.
_modify = threading.Lock()


def register_taggable(resource_type: str, lookup: TaggableLookup) -> None:
    """Make the ARNs of `resource_type` (e.g. "entity-recognizer") taggable, found with `lookup`."""
    _TAGGABLE[resource_type] = lookup


def is_reserved(key: str) -> bool:
    return key.lower().startswith(RESERVED_PREFIX)


def check_tags(
    env: Environment, tags: list[dict[str, str]] | None, existing_keys: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """The (key, value) pairs to store; refuses reserved keys and more than `max_tags` tags in all.

    `existing_keys` are the keys the resource has already (empty for a resource being created).
    """
    pairs: dict[str, str] = {}
    for tag in tags or []:
        key = tag["Key"]
        if is_reserved(key):
            raise invalid_request(f"Tag key '{key}' uses the reserved prefix '{RESERVED_PREFIX}'.")
        pairs[key] = tag.get("Value", "")
    total = len({key for key in existing_keys if not is_reserved(key)} | pairs.keys())
    if total > env.settings.max_tags:
        raise ServiceError(
            "TooManyTagsException",
            f"A resource can have at most {env.settings.max_tags} tags; this request would give it {total}.",
        )
    return list(pairs.items())


def _resolve(env: Environment, ctx: RequestContext, resource_arn: str) -> str:
    """The ARN, once it is known to name a taggable resource of the caller; else ResourceNotFound."""
    # The model's pattern already holds: arn:<partition>:comprehend:<region>:<account>:<type>/<id>.
    parts = resource_arn.split(":", 5)
    if len(parts) != 6:
        raise resource_not_found(resource_arn)
    _arn, partition, _service, region, account, resource = parts
    resource_type, _, resource_id = resource.partition("/")
    lookup = _TAGGABLE.get(resource_type)
    if (
        (partition, region, account) != (ctx.partition, ctx.region, ctx.account_id)
        or lookup is None
        or not lookup(env, ctx, resource_id)
    ):
        raise resource_not_found(resource_arn)
    return resource_arn


register_taggable("entities-detection-job", functools.partial(job_of_kind, kind=ENTITIES_JOB))
register_taggable("pii-entities-detection-job", functools.partial(job_of_kind, kind=PII_JOB))
register_taggable("dominant-language-detection-job", functools.partial(job_of_kind, kind=LANGUAGE_JOB))


@operation("TagResource")
def tag_resource(
    env: Environment, ctx: RequestContext, *, resource_arn: str, tags: list[dict[str, str]]
) -> dict[str, Any]:
    check_tags(env, tags)  # what is wrong with the request alone comes before whether the resource exists
    arn = _resolve(env, ctx, resource_arn)
    with _modify:
        existing = [key for key, _value in env.tags.of(arn)]
        pairs = check_tags(env, tags, existing)
        if pairs:
            env.tags.add(arn, pairs)
    return {}


@operation("UntagResource")
def untag_resource(env: Environment, ctx: RequestContext, *, resource_arn: str, tag_keys: list[str]) -> dict[str, Any]:
    if len(tag_keys) > env.settings.max_tags:
        raise ServiceError(
            "TooManyTagKeysException",
            f"A request can remove at most {env.settings.max_tags} tag keys; this one has {len(tag_keys)}.",
        )
    for key in tag_keys:
        if is_reserved(key):
            raise invalid_request(
                f"Tag key '{key}' uses the reserved prefix '{RESERVED_PREFIX}' and cannot be removed."
            )
    arn = _resolve(env, ctx, resource_arn)
    with _modify:
        env.tags.remove(arn, tag_keys)
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(env: Environment, ctx: RequestContext, *, resource_arn: str) -> dict[str, Any]:
    arn = _resolve(env, ctx, resource_arn)
    return {"ResourceArn": arn, "Tags": [{"Key": key, "Value": value} for key, value in env.tags.of(arn)]}
