"""CreateEndpoint and its family, for custom entity recognizers.

An endpoint here is a name for a trained recognizer, served by the same warm workers as everything
else: nothing is provisioned, so it is IN_SERVICE as soon as it is created, an update takes effect at
once, and unlike Comprehend's it costs nothing while idle. DesiredInferenceUnits is stored and echoed.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from opencomprehend.jobs.endpoints import IN_SERVICE, EndpointFilter
from opencomprehend.jobs.recognizers import ModelResolver
from opencomprehend.jobs.rows import Endpoint, Recognizer
from opencomprehend.runtime.runner import EngineRef
from opencomprehend.service.access import check_role, owned
from opencomprehend.service.errors import ServiceError, invalid_request, resource_not_found
from opencomprehend.service.idempotency import create_once, request_hash
from opencomprehend.service.pagination import list_operation
from opencomprehend.service.recognizers import usable_recognizer
from opencomprehend.service.registry import Environment, RequestContext, operation
from opencomprehend.service.tags import check_tags, register_taggable

RESOURCE = "entity-recognizer-endpoint"


def _model(env: Environment, ctx: RequestContext, model_arn: str) -> Recognizer:
    if ":entity-recognizer/" not in model_arn:
        raise invalid_request("Only entity recognizer models can be served here; document classifiers are not.")
    return usable_recognizer(env, ctx, model_arn)


def find_endpoint(env: Environment, ctx: RequestContext, arn: str) -> Endpoint:
    return owned(env.endpoints, ctx, arn)


def endpoint_engine(env: Environment, ctx: RequestContext, arn: str) -> EngineRef:
    """The engine DetectEntities runs with an EndpointArn: the model of the endpoint's recognizer."""
    endpoint = find_endpoint(env, ctx, arn)
    if endpoint.status != IN_SERVICE:
        raise ServiceError("ResourceUnavailableException", f"The endpoint {arn} is {endpoint.status}.")
    engine = None
    if env.objects is not None:
        models = ModelResolver(env.recognizers, env.objects, env.settings.model_cache, env.keys)
        engine = models.engine(endpoint.model_arn)
    if engine is None:
        raise ServiceError("ResourceUnavailableException", f"The model of endpoint {arn} is no longer available.")
    return engine


@operation("CreateEndpoint")
def create_endpoint(
    env: Environment,
    ctx: RequestContext,
    *,
    endpoint_name: str,
    desired_inference_units: int,
    model_arn: str | None = None,
    client_request_token: str | None = None,
    tags: list[dict[str, str]] | None = None,
    data_access_role_arn: str | None = None,
    flywheel_arn: str | None = None,
) -> dict[str, Any]:
    if flywheel_arn is not None:
        raise resource_not_found(flywheel_arn)
    if model_arn is None:
        raise invalid_request("ModelArn is required (flywheels are not supported here).")
    _model(env, ctx, model_arn)
    if data_access_role_arn is not None:
        check_role(env, ctx, data_access_role_arn)  # as a job's: the caller's account must have the role
    tag_pairs = check_tags(env, tags)
    arn = ctx.arn(f"{RESOURCE}/{endpoint_name}")
    now = time.time()
    # FlywheelArn was refused above, so it is never part of a request that is hashed; it is left out, so that
    # the tokens of endpoints made before the hash covered every member still replay.
    members = {key: value for key, value in ctx.members.items() if key != "FlywheelArn"}
    row = {
        "endpoint_arn": arn,
        "account_id": ctx.account_id,
        "region": ctx.region,
        "endpoint_name": endpoint_name,
        "status": IN_SERVICE,
        "model_arn": model_arn,
        "desired_inference_units": desired_inference_units,
        "data_access_role_arn": data_access_role_arn,
        "creation_time": now,
        "last_modified_time": now,
        "client_request_token": client_request_token or uuid.uuid4().hex,
        "request_hash": request_hash(members),
    }
    endpoint, created = create_once(
        env.endpoints,
        row,
        tag_pairs,
        lambda: ServiceError("ResourceInUseException", f"An endpoint named '{endpoint_name}' already exists."),
    )
    return {"EndpointArn": endpoint.endpoint_arn, "ModelArn": endpoint.model_arn}


def endpoint_properties(endpoint: Endpoint) -> dict[str, Any]:
    props = {
        "EndpointArn": endpoint.endpoint_arn,
        "Status": endpoint.status,
        "Message": endpoint.message,
        "ModelArn": endpoint.model_arn,
        "DesiredModelArn": endpoint.model_arn,
        "DesiredInferenceUnits": endpoint.desired_inference_units,
        "CurrentInferenceUnits": endpoint.desired_inference_units,
        "CreationTime": endpoint.creation_time,
        "LastModifiedTime": endpoint.last_modified_time,
        "DataAccessRoleArn": endpoint.data_access_role_arn,
        "DesiredDataAccessRoleArn": endpoint.data_access_role_arn,
    }
    return {key: value for key, value in props.items() if value is not None}


@operation("DescribeEndpoint")
def describe_endpoint(env: Environment, ctx: RequestContext, *, endpoint_arn: str) -> dict[str, Any]:
    return {"EndpointProperties": endpoint_properties(find_endpoint(env, ctx, endpoint_arn))}


list_operation(
    "ListEndpoints",
    "EndpointPropertiesList",
    "endpoints",
    where=lambda members: EndpointFilter(
        model_arn=members.get("ModelArn"),
        status=members.get("Status"),
        creation_time_before=members.get("CreationTimeBefore"),
        creation_time_after=members.get("CreationTimeAfter"),
    ),
    rows=lambda env, ctx, where, after, limit: env.endpoints.list(ctx.account_id, ctx.region, where, after, limit),
    position=lambda e: [e.creation_time, e.endpoint_arn],
    properties=lambda env, e: endpoint_properties(e),
)


@operation("UpdateEndpoint")
def update_endpoint(
    env: Environment,
    ctx: RequestContext,
    *,
    endpoint_arn: str,
    desired_model_arn: str | None = None,
    desired_inference_units: int | None = None,
    desired_data_access_role_arn: str | None = None,
    flywheel_arn: str | None = None,
) -> dict[str, Any]:
    endpoint = find_endpoint(env, ctx, endpoint_arn)
    if flywheel_arn is not None:
        raise resource_not_found(flywheel_arn)
    changes: dict[str, Any] = {}
    if desired_model_arn is not None:
        _model(env, ctx, desired_model_arn)
        changes["model_arn"] = desired_model_arn
    if desired_inference_units is not None:
        changes["desired_inference_units"] = desired_inference_units
    if desired_data_access_role_arn is not None:
        check_role(env, ctx, desired_data_access_role_arn)
        changes["data_access_role_arn"] = desired_data_access_role_arn
    env.endpoints.update(endpoint_arn, **changes)
    return {"DesiredModelArn": changes.get("model_arn", endpoint.model_arn)}


@operation("DeleteEndpoint")
def delete_endpoint(env: Environment, ctx: RequestContext, *, endpoint_arn: str) -> dict[str, Any]:
    find_endpoint(env, ctx, endpoint_arn)
    env.endpoints.remove(endpoint_arn)
    env.tags.remove_all(endpoint_arn)
    return {}


def _taggable(env: Environment, ctx: RequestContext, resource_id: str) -> bool:
    return env.endpoints.get_for(ctx.account_id, ctx.region, ctx.arn(f"{RESOURCE}/{resource_id}")) is not None


register_taggable(RESOURCE, _taggable)
