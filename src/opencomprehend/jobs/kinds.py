"""What differs between the kinds of analysis job, in one table; the job engine is otherwise one for all.

Every kind is a row of the same job table (`job_kind`), claimed, leased, sharded, retried and resumed the
same way (jobs/job_run.py). A kind says only which engine reads its documents and how its output is laid
out. Adding a kind is an entry here, its Start handler and Properties in a service/ module (with one
`analysis_jobs.job_operations(...)` call for Describe, List and Stop), and, if it needs one, an engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opencomprehend.io.output import output_uri
from opencomprehend.io.pii_output import pii_output_prefix
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import ENTITIES_JOB, LANGUAGE_JOB, PII_JOB
from opencomprehend.runtime.runner import LANGUAGE_ENGINE, EngineRef, entities_engine, pii_engine_key


@dataclass(frozen=True)
class JobKind:
    name: str  # the job_kind column's value
    # The word in the output folder's name, <account>-<word>-<JobId>/output/ (Comprehend's own).
    output_word: str
    # The engine that reads a document, from the job's LanguageCode (a custom recognizer's model instead,
    # where an entities job names one).
    engine: Callable[[str], EngineRef]
    # Whether the engine is the language's: the language must have a model on this server.
    per_language: bool = True
    # The output: one file per input file beside each other (PII), or one output.tar.gz of JSON lines.
    per_file: bool = False

    @property
    def record_member(self) -> str:
        """The member of an output record that holds what was found ("Entities", "Languages")."""
        return self.engine("").record_member


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(ENTITIES_JOB, "NER", entities_engine),
        JobKind(PII_JOB, "PII", pii_engine_key, per_file=True),
        JobKind(LANGUAGE_JOB, "LANGUAGE", lambda _language: LANGUAGE_ENGINE, per_language=False),
    )
}


def kind_of(job: Job) -> JobKind:
    return KINDS[job.job_kind]


def output_location(job: Job) -> str:
    """Where the job's output goes, as Describe shows it (OutputDataConfig.S3Uri): the archive's URI, or the
    folder of a per-file output."""
    kind = kind_of(job)
    if kind.per_file:
        return pii_output_prefix(job.output_s3_uri, job.account_id, job.job_id)
    return output_uri(job.output_s3_uri, job.account_id, job.job_id, kind.output_word)
