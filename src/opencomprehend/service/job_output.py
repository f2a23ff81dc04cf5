"""A job's output as the console shows it: its documents a page at a time, the archive as written, and its
entities as one flat JSON lines file (issue 21).

Every read goes through the store as the job's data access role sees it (jobs/access.py), so a role removed
or narrowed since the job ran is an error that names the object, not a way round the role. Nothing is held
whole: an output.tar.gz is decompressed as it is read (tarfile "r|gz"), a PII job's `.out` objects are read
one after the other, and the input documents (for their text, so that offsets can be highlighted) are read
with the job's own reader (io/documents.py), each file forward from its start as far as the page needs.

Output sealed by this server under the job's KmsKeyId (security/keyring.py, envelope encryption) is opened
with the keyring when its key is the job's account's and enabled; sealed objects are opened in memory,
as they were sealed. Output stored with SSE-KMS by an S3 store is decrypted by the store.

A STOPPED job's output (the documents it finished) is shown as a COMPLETED job's is.
"""

from __future__ import annotations

import io
import itertools
import json
import tarfile
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from opencomprehend.io.documents import Document, DocumentReader
from opencomprehend.io.objects import AccessDenied, NoSuchBucket, NoSuchKey, ObjectInfo, StorageError, parse_s3_uri
from opencomprehend.io.output import archive_records, json_lines, tar_gz_stream
from opencomprehend.io.pii_output import ONLY_REDACTION, read_redacted
from opencomprehend.jobs.access import DataAccess
from opencomprehend.jobs.kinds import kind_of, output_location
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.store import COMPLETED, FAILED, STOPPED
from opencomprehend.security.keyring import MAGIC as SEALED
from opencomprehend.security.keyring import KeyringError
from opencomprehend.service.access import owned
from opencomprehend.service.errors import ServiceError, invalid_request, job_not_found
from opencomprehend.service.registry import Environment, RequestContext

# The most documents one page may ask for.
MAX_COUNT = 1000
# Output objects are passed on (archive) this many bytes at a time.
CHUNK = 1 << 20
# What reading an output that is not what the job wrote raises (a damaged archive, a line that is not JSON).
_UNREADABLE = (tarfile.TarError, zlib.error, EOFError, ValueError)


@dataclass(frozen=True)
class OutputDocument:
    """One record of a job's output, with its input document's text.

    `line` is the record's Line (0-based, None in ONE_DOC_PER_FILE). `text` is None for a document that
    could not be read (an error record), whose input is gone, or when the page was asked without text.
    `entities` are the record's Entities (Languages for a dominant language job), narrowed by the page's
    filters; empty for a PII redaction job, whose `redacted` holds the redacted document (line or file)."""

    file: str
    line: int | None
    text: str | None
    entities: list[dict[str, Any]]
    error_code: str | None = None
    error_message: str | None = None
    redacted: str | None = None


@dataclass(frozen=True)
class OutputPage:
    """The documents of a page; `next_start` is the `start` of the next page (None after the last one);
    `total_scanned` counts the output records read to build this page (those before `start` included)."""

    documents: list[OutputDocument]
    next_start: int | None
    total_scanned: int


@dataclass
class _Record:
    file: str
    line: int | None
    entities: list[dict[str, Any]] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None
    redacted: str | None = None


# -- the API -----------------------------------------------------------------------------------------------


def find_job(env: Environment, ctx: RequestContext, job_id: str) -> Job:
    """The caller's job of any kind (entities, PII, dominant language); another account's or region's, or
    one that does not exist, is JobNotFoundException, as Describe answers."""
    return owned(env.store, ctx, job_id, job_not_found)


def output_page(
    env: Environment,
    ctx: RequestContext,
    job_id: str,
    start: int = 0,
    count: int = 20,
    *,
    types: Iterable[str] | None = None,
    min_score: float = 0.0,
    search: str | None = None,
    with_text: bool = True,
) -> OutputPage:
    """`count` documents of the job's output, in the output's order, from the `start`-th that passes the filters.

    `types`: only documents with at least one entity of these Types (a language job: LanguageCodes), their
    entities narrowed to them; `min_score`: entities below it are left out (the document stays, unless
    `types` then leaves it none); `search`: the document's text, redacted text or File holds it, in any
    case. `with_text=False` reads no input (search then looks at File and redacted text only).
    """
    if start < 0:
        raise invalid_request(f"start must be 0 or more, not {start}.")
    if not 1 <= count <= MAX_COUNT:
        raise invalid_request(f"count must be from 1 to {MAX_COUNT}, not {count}.")
    wanted = frozenset(types) if types else None
    needle = search.casefold() if search else None
    output = _Output(env, ctx, job_id)
    records = output.records()
    reader = output.reader()
    documents: list[OutputDocument] = []
    matched = scanned = 0
    next_start = None
    try:
        for record in records:
            scanned += 1
            entities = [e for e in record.entities if _score(e) >= min_score and (wanted is None or _type(e) in wanted)]
            if wanted is not None and not entities:
                continue
            on_page = start <= matched < start + count
            document = None
            if with_text and record.error_code is None and (on_page or needle is not None):
                document = output.input_document(reader, record.file, record.line)
            text = document.text if document is not None else None
            if needle is not None and not _holds(needle, record.file, text, record.redacted):
                continue
            if matched >= start + count:
                next_start = start + count
                break
            if on_page:
                error_code, error_message = record.error_code, record.error_message
                if error_code is None and record.redacted is not None and document is not None:
                    # A redacted document that could not be read is an empty line: say why.
                    error_code, error_message = document.error_code, document.error_message
                documents.append(
                    OutputDocument(record.file, record.line, text, entities, error_code, error_message, record.redacted)
                )
            matched += 1
    finally:
        reader.close()
        records.close()
    return OutputPage(documents, next_start, scanned)


def archive(env: Environment, ctx: RequestContext, job_id: str) -> tuple[str, Iterator[bytes]]:
    """The job's output to download, as a file name and its bytes in chunks.

    An entities or language job's output.tar.gz exactly as stored (still sealed if it was sealed under its
    KmsKeyId: `opencomprehend output decrypt` opens it; the name then ends in `.sealed`). A PII job's
    `.out` objects (as stored) in a tar.gz built as it is sent, named by their File with `.out`.
    Errors about the job and its output are raised here, before the first chunk."""
    output = _Output(env, ctx, job_id)
    if output.pii:
        objects = output.pii_objects()
        return f"{job_id}-output.tar.gz", _primed(output.guarded(tar_gz_stream(output.pii_members(objects))))
    bucket, key = parse_s3_uri(output.uri)
    stream = output.open_raw(bucket, key)
    try:
        head = _read_exactly(stream, len(SEALED))
    except StorageError as exc:
        stream.close()
        raise output.failure(exc, output.uri) from None
    name = f"{job_id}-output.tar.gz" + (".sealed" if head == SEALED else "")
    return name, output.guarded(_chunks(head, stream))


def flat_entities(env: Environment, ctx: RequestContext, job_id: str) -> Iterator[str]:
    """Every entity of the job's output as one JSON lines file, a line (with its "\\n") per entity:
    File, Line (when the record has one), Type, Text, BeginOffset, EndOffset, Score, then any other member
    of the entity (a language job: LanguageCode and Score). Text, when the record has none (PII offsets),
    is the text the offsets cover in the input document. An error record gives one line: File, Line,
    ErrorCode, ErrorMessage. Errors about the job and its output are raised here, before the first line."""
    output = _Output(env, ctx, job_id)
    if output.redaction:
        raise invalid_request(
            f"Job {job_id} is a PII redaction job (Mode {ONLY_REDACTION}): its output is the redacted documents, "
            "which list no entities."
        )
    return _primed(output.guarded(output.flat(output.records())))


# -- reading a job's output --------------------------------------------------------------------------------


class _Output:
    """One job's output, read through its role; `failure` words the store's errors with the object's URI."""

    def __init__(self, env: Environment, ctx: RequestContext, job_id: str) -> None:
        job = find_job(env, ctx, job_id)
        _check_available(job)
        if env.objects is None:
            raise invalid_request("The output is not available: this server has no object store.")
        self.env = env
        self.job = job
        self.job_id = job_id
        self.data = DataAccess(env.objects, env.roles, env.settings, env.keys).store_for(
            job.data_access_role_arn, job.account_id
        )
        self.pii = kind_of(job).per_file
        self.redaction = self.pii and job.mode == ONLY_REDACTION
        self.uri = output_location(job)
        self.current = self.uri  # the output object being read, for messages

    # -- errors

    def failure(self, exc: Exception, uri: str) -> ServiceError:
        about = f"The output of job {self.job_id} is not available"
        if isinstance(exc, (NoSuchKey, NoSuchBucket)):
            return invalid_request(f"{about}: {uri} does not exist (it was deleted or moved).")
        if isinstance(exc, AccessDenied):
            role = self.job.data_access_role_arn
            return invalid_request(f"{about}: the job's data access role {role} may not read {uri}.")
        if isinstance(exc, StorageError):
            return invalid_request(f"{about}: {uri} could not be read: {exc}")
        return invalid_request(f"{about}: {uri} is not output as the job wrote it ({type(exc).__name__}: {exc}).")

    def guarded(self, items: Iterator[Any]) -> Generator[Any, None, None]:
        """`items`, with the store's errors raised while they are read turned into InvalidRequestException."""
        try:
            yield from items
        except (StorageError, *_UNREADABLE) as exc:
            raise self.failure(exc, self.current) from None
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    # -- objects

    def open_raw(self, bucket: str, key: str) -> BinaryIO:
        uri = self.current = f"s3://{bucket}/{key}"
        try:
            return self.data.open_stream(bucket, key)
        except StorageError as exc:
            raise self.failure(exc, uri) from None

    def open(self, bucket: str, key: str) -> BinaryIO:
        """An output object as a stream of what the job wrote: opened with the keyring when it is sealed."""
        stream = self.open_raw(bucket, key)
        try:
            head = _read_exactly(stream, len(SEALED))
            if head != SEALED:
                return _Prefixed(head, stream)  # type: ignore[return-value]
            sealed = head + stream.read()
        except StorageError as exc:
            stream.close()
            raise self.failure(exc, self.current) from None
        stream.close()
        return io.BytesIO(self._unseal(sealed))

    def _unseal(self, sealed: bytes) -> bytes:
        uri = self.current
        key = self.job.output_kms_key_id or "a KMS key"
        about = f"The output of job {self.job_id} is not available: {uri} is encrypted under {key}"
        if self.env.keys is None:
            raise invalid_request(f"{about} and this server has no KMS keyring to open it.")
        try:
            return self.env.keys.open(sealed, self.job.account_id)
        except KeyringError as exc:
            raise invalid_request(f"{about}, which cannot open it: {str(exc).rstrip('.')}.") from None

    def pii_objects(self) -> Iterator[ObjectInfo]:
        """The PII job's `.out` objects, in key order; none at all is InvalidRequestException (now)."""
        bucket, prefix = parse_s3_uri(self.uri)
        try:
            found = (info for info in self.data.list_objects(bucket, prefix) if info.key.endswith(".out"))
            first = next(found, None)
        except StorageError as exc:
            raise self.failure(exc, self.uri) from None
        if first is None:
            raise invalid_request(
                f"The output of job {self.job_id} is not available: nothing was written under {self.uri}."
            )
        return itertools.chain([first], found)

    def pii_members(self, objects: Iterable[ObjectInfo]) -> Iterator[tuple[str, int, BinaryIO]]:
        bucket, prefix = parse_s3_uri(self.uri)
        for info in objects:
            yield info.key[len(prefix) :], info.size, self.open_raw(bucket, info.key)

    # -- records

    def records(self) -> Generator[_Record, None, None]:
        """The output's records in order; the first object is opened now, so that a missing output (or a
        sealed one that does not open) raises here."""
        if self.pii:
            return self.guarded(self._pii_records(self.pii_objects()))
        bucket, key = parse_s3_uri(self.uri)
        return self.guarded(self._archive_records(self.open(bucket, key)))

    def _archive_records(self, stream: BinaryIO) -> Iterator[_Record]:
        member = kind_of(self.job).record_member
        try:
            for record in archive_records(stream):
                yield _record(record, member)
        finally:
            stream.close()

    def _pii_records(self, objects: Iterator[ObjectInfo]) -> Iterator[_Record]:
        bucket, prefix = parse_s3_uri(self.uri)
        input_format = self.job.input_format
        for info in objects:
            file = info.key[len(prefix) : -len(".out")]
            stream = self.open(bucket, info.key)
            try:
                if self.redaction:
                    for line, redacted in read_redacted(stream, input_format):
                        yield _Record(file, line, redacted=redacted)
                else:
                    for record in json_lines(stream):
                        yield _record(record, "Entities")
            finally:
                stream.close()

    # -- input

    def reader(self) -> DocumentReader:
        job = self.job
        return DocumentReader(self.data, job.input_s3_uri, job.input_format, self.env.settings.max_document_bytes)

    def input_document(self, reader: DocumentReader, file: str, line: int | None) -> Document | None:
        """The input document of a record, as the job read it; None when its input object is gone."""
        try:
            return reader.document(file, line)
        except StorageError as exc:
            uri = reader.uri(file)
            if isinstance(exc, AccessDenied):
                role = self.job.data_access_role_arn
                raise invalid_request(
                    f"The input of job {self.job_id} is not available: its data access role {role} may not read {uri}."
                ) from None
            raise invalid_request(
                f"The input of job {self.job_id} is not available: {uri} could not be read: {exc}"
            ) from None

    def flat(self, records: Generator[_Record, None, None]) -> Iterator[str]:
        reader = self.reader()
        try:
            for record in records:
                where: dict[str, Any] = {"File": record.file}
                if record.line is not None:
                    where["Line"] = record.line
                if record.error_code is not None:
                    error = {**where, "ErrorCode": record.error_code, "ErrorMessage": record.error_message}
                    yield json.dumps(error, ensure_ascii=False) + "\n"
                    continue
                text: str | None = None
                looked = False
                for entity in record.entities:
                    flat = dict(where)
                    if "Type" in entity:
                        flat["Type"] = entity["Type"]
                    covered = entity.get("Text")
                    if covered is None and "BeginOffset" in entity and "EndOffset" in entity:
                        if not looked:
                            document = self.input_document(reader, record.file, record.line)
                            text = document.text if document is not None else None
                            looked = True
                        if text is not None:
                            covered = text[entity["BeginOffset"] : entity["EndOffset"]]
                    if covered is not None:
                        flat["Text"] = covered
                    for key in ("BeginOffset", "EndOffset", "Score"):
                        if key in entity:
                            flat[key] = entity[key]
                    for key, value in entity.items():
                        flat.setdefault(key, value)
                    yield json.dumps(flat, ensure_ascii=False) + "\n"
        finally:
            reader.close()
            records.close()


# -- helpers -----------------------------------------------------------------------------------------------


def _check_available(job: Job) -> None:
    status = job.status
    if status in (COMPLETED, STOPPED):
        return
    about = f"The output of job {job.job_id} is not available"
    if status == FAILED:
        reason = f": {str(job.message).rstrip('.')}" if job.message else ""
        raise invalid_request(f"{about}: the job FAILED{reason}.")
    raise invalid_request(f"{about} yet: the job is {status}, and its output is written when it ends.")


def _record(record: dict[str, Any], member: str) -> _Record:
    return _Record(
        record["File"],
        record.get("Line"),
        list(record.get(member) or []),
        record.get("ErrorCode"),
        record.get("ErrorMessage"),
    )


def _score(entity: dict[str, Any]) -> float:
    score = entity.get("Score")
    return float(score) if isinstance(score, (int, float)) else 0.0


def _type(entity: dict[str, Any]) -> str | None:
    return entity.get("Type", entity.get("LanguageCode"))


def _holds(needle: str, file: str, text: str | None, redacted: str | None) -> bool:
    return any(needle in value.casefold() for value in (file, text, redacted) if value is not None)


def _primed(items: Generator[Any, None, None]) -> Iterator[Any]:
    """`items` with its first item taken now: what would fail at the start of a download fails here, before
    a response has begun."""
    end = object()
    first = next(items, end)

    def rest() -> Iterator[Any]:
        try:
            if first is not end:
                yield first
                yield from items
        finally:
            items.close()

    return rest()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes: fewer only at the end of the stream (a read may return less than asked)."""
    data = b""
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            break
        data += more
    return data


class _Prefixed:
    """A stream whose first bytes were read already (to look for the sealed header): those, then the rest."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._stream.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data

    def close(self) -> None:
        self._stream.close()


def _chunks(head: bytes, stream: BinaryIO) -> Iterator[bytes]:
    try:
        if head:
            yield head
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()
