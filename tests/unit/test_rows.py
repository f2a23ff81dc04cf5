"""The typed records of jobs.rows stay what their tables are: a field a column, in order, None where nullable."""

from __future__ import annotations

import dataclasses
import pickle
import typing

import pytest
from support.rows import job_record

from opencomprehend.jobs import rows
from opencomprehend.jobs.schema import endpoints, entity_recognizers, jobs


@pytest.mark.parametrize(
    ("record", "table"), [(rows.Job, jobs), (rows.Recognizer, entity_recognizers), (rows.Endpoint, endpoints)]
)
def test_a_record_has_a_field_for_each_column_none_only_where_the_column_is_nullable(record, table) -> None:
    hints = typing.get_type_hints(record)
    assert [f.name for f in dataclasses.fields(record)] == [c.name for c in table.columns]
    for column in table.columns:
        optional = type(None) in typing.get_args(hints[column.name])
        assert optional == column.nullable, column.name
    assert record.key == next(c.name for c in table.columns if c.primary_key)


def test_a_record_is_an_immutable_value_that_pickles() -> None:
    job = job_record(job_id="a" * 32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "COMPLETED"  # type: ignore[misc]
    assert not hasattr(job, "__dict__")  # slots: a record is its columns and nothing else
    assert pickle.loads(pickle.dumps(job)) == job
    assert dataclasses.replace(job, status="COMPLETED").status == "COMPLETED" and job.status == "SUBMITTED"
    with pytest.raises(TypeError, match="subscriptable"):
        job["job_id"]  # type: ignore[index]
