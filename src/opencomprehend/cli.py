"""The `opencomprehend` command."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from opencomprehend import logs
from opencomprehend.config import Settings
from opencomprehend.jobs.errors import StoreUnavailable, describe_database_error
from opencomprehend.runtime.runner import SchedulerUnreachable

app = typer.Typer(help="OpenComprehend: self-hosted Amazon Comprehend entity detection.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    """A one-line error on stderr and exit status 2: what a person at a terminal should see, no traceback."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


def _listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before anything slow starts (port 0: the system picks one)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[
        0
    ]
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and without
    # it every answer waits on Nagle and delayed ACKs (about 40 ms a request).
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port to listen on (default 8080; 0 picks a free one).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the job store and local buckets (default: ./data, in the folder serve is started "
            "from, or $OPENCOMPREHEND_DATA_DIR)."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default 2).")] = None,
    auth: Annotated[
        str | None,
        typer.Option(
            help="development (default: no signature checks, loopback only) or sigv4 (every request verified "
            "against `opencomprehend credentials`)."
        ),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(help="Where shards run: local (default: this node's warm worker processes) or dask."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="The Dask scheduler's address for --runtime dask (tcp://host:port).")
    ] = None,
    models: Annotated[
        Path | None,
        typer.Option(
            help="The models file (TOML): per language an engine, a model and a label map, over the shipped "
            "models (default: $OPENCOMPREHEND_MODELS; docs/models.md)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            help="text (default) or json: one JSON object a line, with the request id, account, operation and "
            "job id where known (or $OPENCOMPREHEND_LOG_FORMAT; docs/operations.md)."
        ),
    ] = None,
) -> None:
    """Start the API and the workers."""
    import pydantic
    import uvicorn

    from opencomprehend.api.http import uvicorn_options
    from opencomprehend.server import create_app

    overrides = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "data_dir": data_dir,
            "workers": workers,
            "auth": auth,
            "runtime": runtime,
            "dask_scheduler": scheduler,
            "models": models,
            "log_format": log_format,
        }.items()
        if value is not None
    }
    try:
        settings = Settings(**overrides)
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        if len(errors) == 1 and not errors[0]["loc"]:  # a rule over several settings: its message alone
            raise _fail(str(errors[0]["msg"]).removeprefix("Value error, ")) from None
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in errors)
        raise _fail(f"invalid setting ({problems})") from None
    try:
        listener = _listen(settings.host, settings.port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise _fail(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None
    logs.configure(settings.log_format, settings.access_log)
    os.environ[logs.FORMAT_VARIABLE] = settings.log_format  # the worker processes log alike (runtime/worker.py)
    if settings.runtime == "dask" and not settings.dask_scheduler:
        listener.close()
        raise _fail("--runtime dask needs the Dask scheduler's address: --scheduler tcp://host:port")
    if settings.models:
        from opencomprehend.nlp.models_file import ModelsFileError, check_models, read_models_file

        try:
            # Every configured model is loaded once now: a model that cannot load stops the start, by language.
            check_models(read_models_file(settings.models))
        except ModelsFileError as exc:
            listener.close()
            raise _fail(str(exc)) from None
    try:
        application = create_app(settings)
    except (SchedulerUnreachable, StoreUnavailable) as exc:  # each says what it could not reach, by address
        listener.close()
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        listener.close()
        raise _fail(describe_database_error(settings.resolved_database_url(), exc)) from None
    except ValueError as exc:  # settings that do not fit together (e.g. TLS toward the Dask cluster)
        listener.close()
        raise _fail(str(exc)) from None
    except OSError as exc:
        listener.close()
        where = f" ({exc.filename})" if exc.filename else ""
        raise _fail(f"cannot use the data folder {settings.data_dir}: {exc.strerror or exc}{where}") from None
    bound = listener.getsockname()[1]
    json_logs = settings.log_format == "json"
    # With JSON logs every line of stdout and stderr is a JSON object: these two lines are log records then.
    say = logging.getLogger("opencomprehend").info if json_logs else typer.echo
    say(f"OpenComprehend on http://{settings.host}:{bound} (data in {settings.data_dir.resolve()})")
    # log_config None: uvicorn's own loggers (errors) go through our handler, in our format.
    log_config = {"log_config": None} if json_logs else {}
    config = uvicorn.Config(application, log_level="warning", **log_config, **uvicorn_options(settings))
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        # uvicorn re-raises a SIGINT or SIGTERM once it has shut down, so that the exit status tells of it.
        say("OpenComprehend stopped.")


credentials_app = typer.Typer(
    help="API credentials for --auth sigv4: access keys, each mapped to one account.", no_args_is_help=True
)
app.add_typer(credentials_app, name="credentials")

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="The server's data folder (default: ./data or $OPENCOMPREHEND_DATA_DIR)."),
]


def _credential_store(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from opencomprehend.server import open_credentials

    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    try:
        return open_credentials(settings)
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _fail(describe_database_error(settings.resolved_database_url(), exc)) from None


@credentials_app.command("add")
def credentials_add(
    account_id: Annotated[str, typer.Option("--account-id", help="The twelve-digit account the key acts as.")],
    access_key_id: Annotated[
        str | None, typer.Option(help="Use this access key id (default: a new one, OCAK…).")
    ] = None,
    description: Annotated[str, typer.Option(help="A note for whoever reads `credentials list`.")] = "",
    session: Annotated[
        bool,
        typer.Option(
            "--session",
            help="A temporary credential, as STS gives: a session token too, which clients send as "
            "X-Amz-Security-Token (aws_session_token, AWS_SESSION_TOKEN), refused once it expires.",
        ),
    ] = False,
    duration_seconds: Annotated[
        int, typer.Option(min=1, max=129_600, help="How long a --session credential lasts (default one hour).")
    ] = 3600,
    data_dir: DataDirOption = None,
) -> None:
    """Make an access key for an account; its secret is shown this once (the file holds it encrypted)."""
    import datetime as dt

    from opencomprehend.security.credentials import CredentialError

    store = _credential_store(data_dir)
    try:
        made = store.add(
            account_id, access_key_id, description=description, session_seconds=duration_seconds if session else None
        )
    except CredentialError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"AccessKeyId: {made.access_key_id}")
    typer.echo(f"SecretAccessKey: {made.secret_access_key}")
    if made.temporary:
        assert made.expires is not None
        typer.echo(f"SessionToken: {made.session_token}")
        typer.echo(f"Expiration: {dt.datetime.fromtimestamp(made.expires, dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    typer.echo(f"Account: {made.account_id}")


@credentials_app.command("list")
def credentials_list(data_dir: DataDirOption = None) -> None:
    """The access keys and their accounts (never the secrets)."""
    import datetime as dt

    def stamp(seconds: float) -> str:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    now = dt.datetime.now(dt.UTC).timestamp()
    for credential in _credential_store(data_dir).list():
        note = f"  {credential.description}" if credential.description else ""
        session = ""
        if credential.temporary and credential.expires is not None:
            session = f"  session, {'expired' if credential.expires <= now else 'expires'} {stamp(credential.expires)}"
        typer.echo(f"{credential.access_key_id}  {credential.account_id}  {stamp(credential.created)}{session}{note}")


@credentials_app.command("remove")
def credentials_remove(
    access_key_id: Annotated[str, typer.Argument(help="The access key id to remove.")],
    data_dir: DataDirOption = None,
) -> None:
    """Remove an access key: requests signed with it are refused from then on."""
    from opencomprehend.security.credentials import CredentialError

    try:
        gone = _credential_store(data_dir).remove(access_key_id)
    except CredentialError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Removed {gone.access_key_id} (account {gone.account_id}).")


roles_app = typer.Typer(
    help="Data access roles for --auth sigv4: what each role of an account may read and write.", no_args_is_help=True
)
app.add_typer(roles_app, name="roles")


def _role_registry(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from opencomprehend.server import open_roles

    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    try:
        return open_roles(settings)
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _fail(describe_database_error(settings.resolved_database_url(), exc)) from None


@roles_app.command("add")
def roles_add(
    account_id: Annotated[str, typer.Option("--account-id", help="The twelve-digit account the role belongs to.")],
    name: Annotated[
        str, typer.Option("--name", help="The role's name: its ARN is arn:aws:iam::<account>:role/<name>.")
    ],
    read: Annotated[list[str], typer.Option("--read", help="An S3 prefix the role may read (repeat for more).")] = [],  # noqa: B006
    write: Annotated[
        list[str], typer.Option("--write", help="An S3 prefix the role may write, and read (repeat for more).")
    ] = [],  # noqa: B006
    s3_endpoint_url: Annotated[
        str | None, typer.Option(help="The object store the role uses (default: the server's).")
    ] = None,
    s3_access_key_id: Annotated[str | None, typer.Option(help="The role's own object-store access key.")] = None,
    s3_secret_access_key: Annotated[str | None, typer.Option(help="...and its secret (stored encrypted).")] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace the role if it exists (narrow or widen it in one step); running jobs and trainings "
            "see the new grant at their next read or write.",
        ),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Add a data access role to an account."""
    from opencomprehend.security.files import SecurityFileError

    try:
        role = _role_registry(data_dir).add(
            account_id, name, read, write, s3_endpoint_url, s3_access_key_id, s3_secret_access_key, replace
        )
    except SecurityFileError as exc:
        raise _fail(str(exc)) from None
    typer.echo(role.arn)


@roles_app.command("list")
def roles_list(data_dir: DataDirOption = None) -> None:
    """Every role with what it may read and write (never a secret)."""
    for role in _role_registry(data_dir).list():
        store = f"  store {role.s3_endpoint_url}" if role.s3_endpoint_url else ""
        typer.echo(f"{role.arn}  read {','.join(role.read) or '-'}  write {','.join(role.write) or '-'}{store}")


@roles_app.command("remove")
def roles_remove(
    arn: Annotated[str, typer.Argument(help="The role's ARN.")],
    data_dir: DataDirOption = None,
) -> None:
    """Remove a role: jobs and trainings that name it are refused from then on, and running ones fail at
    their next read or write."""
    from opencomprehend.security.files import SecurityFileError

    try:
        gone = _role_registry(data_dir).remove(arn)
    except SecurityFileError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Removed {gone.arn}.")


kms_app = typer.Typer(
    help="The local KMS keyring: keys for KmsKeyId, VolumeKmsKeyId, ModelKmsKeyId.", no_args_is_help=True
)
app.add_typer(kms_app, name="kms")
output_app = typer.Typer(help="Job output written encrypted (OutputDataConfig.KmsKeyId).", no_args_is_help=True)
app.add_typer(output_app, name="output")


def _keyring(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from opencomprehend.server import open_keyring

    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    try:
        return open_keyring(settings)
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _fail(describe_database_error(settings.resolved_database_url(), exc)) from None


@kms_app.command("create")
def kms_create(
    account_id: Annotated[str, typer.Option("--account-id", help="The twelve-digit account that owns the key.")],
    region: Annotated[str, typer.Option(help="The key's region, an AWS region name such as eu-west-3.")] = "us-east-1",
    alias: Annotated[str | None, typer.Option(help="An alias, e.g. alias/comprehend-output.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a key (256-bit material, stored encrypted under the master key); prints its ARN."""
    from opencomprehend.security.files import SecurityFileError

    try:
        key = _keyring(data_dir).create(account_id, region, alias)
    except SecurityFileError as exc:
        raise _fail(str(exc)) from None
    typer.echo(key.arn)


@kms_app.command("list")
def kms_list(data_dir: DataDirOption = None) -> None:
    """Every key: ARN, state and aliases (never the material)."""
    for key in _keyring(data_dir).list():
        state = "Enabled" if key.enabled else "Disabled"
        typer.echo(f"{key.arn}  {state}  {' '.join(key.aliases)}".rstrip())


def _set_enabled(
    key_id: str, enabled: bool, account_id: str | None, region: str | None, data_dir: Path | None
) -> None:
    from opencomprehend.security.files import SecurityFileError

    try:
        key = _keyring(data_dir).set_enabled(key_id, enabled, account_id, region)
    except SecurityFileError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{key.arn}  {'Enabled' if enabled else 'Disabled'}")


KeyIdArgument = Annotated[
    str, typer.Argument(help="The key: its id, its ARN, alias/<name> or the alias's ARN (as a request names it).")
]
KeyAccountOption = Annotated[
    str | None, typer.Option("--account-id", help="The key's account (needed when several accounts share an alias).")
]
KeyRegionOption = Annotated[
    str | None, typer.Option("--region", help="The key's region (needed when several regions share an alias).")
]


@kms_app.command("disable")
def kms_disable(
    key_id: KeyIdArgument,
    account_id: KeyAccountOption = None,
    region: KeyRegionOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Disable a key: requests naming it get KmsKeyValidationException, and what it sealed stays closed."""
    _set_enabled(key_id, False, account_id, region, data_dir)


@kms_app.command("enable")
def kms_enable(
    key_id: KeyIdArgument,
    account_id: KeyAccountOption = None,
    region: KeyRegionOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Enable a disabled key again."""
    _set_enabled(key_id, True, account_id, region, data_dir)


@output_app.command("decrypt")
def output_decrypt(
    source: Annotated[Path, typer.Argument(help="An encrypted output.tar.gz (under the local bucket folder).")],
    account_id: Annotated[str, typer.Option("--account-id", help="The account whose key sealed it.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the decrypted archive.")],
    data_dir: DataDirOption = None,
) -> None:
    """Give back the output.tar.gz of a job that had OutputDataConfig.KmsKeyId, for its own account."""
    from opencomprehend.security.files import SecurityFileError

    try:
        plain = _keyring(data_dir).open(source.read_bytes(), account_id)
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc.strerror or exc}") from None
    except SecurityFileError as exc:
        raise _fail(str(exc)) from None
    out.write_bytes(plain)
    typer.echo(f"{out}: {len(plain):,} bytes")


models_app = typer.Typer(help="The entity model each language runs (the shipped ones and the models file).")
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(
    models: Annotated[
        Path | None, typer.Option(help="The models file (default: $OPENCOMPREHEND_MODELS; none: shipped models).")
    ] = None,
) -> None:
    """What each language resolves to: engine, model, where the choice comes from, labels and size on disk."""
    from opencomprehend.nlp.models_file import (
        ModelsFileError,
        describe_labels,
        folder_bytes,
        model_folder,
        read_models_file,
    )
    from opencomprehend.nlp.registry import DEFAULT_MODELS, configure_models, configured_models

    path = models or Settings().models
    try:
        configure_models(read_models_file(path) if path else {})
    except ModelsFileError as exc:
        raise _fail(str(exc)) from None
    for language, choice in configured_models().items():
        if language not in DEFAULT_MODELS:
            continue
        folder = model_folder(choice.model)
        size = f"{folder_bytes(folder) / 1e6:,.2f} MB" if folder is not None else "NOT INSTALLED"
        notes = ["shipped default" if choice.source == "default" else f"models file {choice.source}", size]
        notes += [f"{k} {v}" for k, v in (("batch_size", choice.batch_size), ("device", choice.device)) if v]
        typer.echo(f"{language:<6} {choice.engine:<16} {choice.model}  ({'; '.join(notes)})")
        typer.echo(f"       labels: {describe_labels(choice)}")


@app.command("eval")
def evaluate(
    dataset: Annotated[
        Path, typer.Argument(help='JSON lines: {"text": ..., "entities": [{"begin", "end", "type"}]} per line.')
    ],
    language: Annotated[str, typer.Option("--language", "-l", help="Language code of the texts, e.g. en.")],
    model: Annotated[
        str | None,
        typer.Option(help="A model package or folder to evaluate instead of the language's configured model."),
    ] = None,
    engine_name: Annotated[
        str,
        typer.Option(
            "--engine", help="The engine that runs --model: spacy.v1 (default) or transformers.v1 (an ONNX folder)."
        ),
    ] = "spacy.v1",
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N documents.")] = None,
    join: Annotated[
        int,
        typer.Option(
            min=1,
            help="Recognise every N consecutive lines as one document (joined by newlines), as a job reading "
            "whole files sees running text; each entity is scored against the line it starts in.",
        ),
    ] = 1,
    raw_types: Annotated[
        bool,
        typer.Option(
            "--raw-types",
            help="Compare labels exactly as they are (custom models; needs --model) instead of "
            "mapping gold and predicted labels onto Comprehend's types.",
        ),
    ] = False,
    gold_types_only: Annotated[
        bool,
        typer.Option(
            "--gold-types-only",
            help="Leave out predicted types the set never annotates (e.g. DATE on a set "
            "that only marks people, places and organisations).",
        ),
    ] = False,
    raw_scores: Annotated[
        bool,
        typer.Option(
            "--raw-scores",
            help="Report the model's raw scores, without the calibration saved beside it (calibration.json).",
        ),
    ] = False,
) -> None:
    """Precision, recall and F1 of an entity model on a labelled set, by type and overall.

    Exact match on (begin, end, type), micro-averaged over types (opencomprehend.nlp.evaluation). Without
    --model, the language's model as the server resolves it: the models file ($OPENCOMPREHEND_MODELS) over the
    shipped ones.
    """
    import time

    from opencomprehend.nlp.evaluation import judged, score
    from opencomprehend.nlp.labels import comprehend_type
    from opencomprehend.nlp.registry import UnsupportedLanguage, load_engine
    from opencomprehend.nlp.training import read_jsonl

    def fail(message: str) -> typer.Exit:
        typer.echo(f"Error: {message}", err=True)
        return typer.Exit(2)

    if not dataset.is_file():
        raise fail(f"no such file: {dataset}")
    if raw_types and model is None:
        raise fail("--raw-types compares a custom model's own labels; name the model with --model.")
    try:
        documents = read_jsonl(dataset, limit)
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail(str(exc)) from None
    from opencomprehend.nlp.models_file import ModelsFileError, read_models_file
    from opencomprehend.nlp.registry import configure_models

    try:
        models_file = Settings().models
        configure_models(read_models_file(models_file) if models_file else {})
    except ModelsFileError as exc:
        raise fail(str(exc)) from None
    try:
        options = {"calibrate": False} if raw_scores else {}
        if model is None:
            engine = load_engine(language, **options)
        elif engine_name != "spacy.v1":
            engine = load_engine(language, {language: (engine_name, model)})
        else:
            # custom.v1 reports the model's labels unchanged; spacy.v1 maps them onto Comprehend's types.
            engine = load_engine(language, {language: ("custom.v1" if raw_types else "spacy.v1", model)}, **options)
    except UnsupportedLanguage as exc:
        raise fail(str(exc)) from None
    except (ValueError, OSError, ImportError, TypeError) as exc:
        raise fail(f"cannot load the model: {exc}") from None

    def as_type(label: str) -> str:
        return label if raw_types else comprehend_type(label)

    texts = [doc.text for doc in documents]
    joined = ["\n".join(texts[i : i + join]) for i in range(0, len(texts), join)]
    engine.recognise(joined[:16])  # warm-up: first-call allocation is not throughput
    started = time.perf_counter()
    found = _split_joined(engine.recognise(joined), texts, join)
    seconds = time.perf_counter() - started

    gold = [[(b, e, as_type(t)) for b, e, t in doc.entities] for doc in documents]
    predicted = [[(p["BeginOffset"], p["EndOffset"], p["Type"]) for p in ents] for ents in found]
    gold_types = {t for ents in gold for _, _, t in ents}
    left_out = sorted({t for ents in predicted for _, _, t in ents} - gold_types)
    if gold_types_only:
        predicted = [[p for p in ents if p[2] in gold_types] for ents in predicted]
    scores = score(gold, predicted)
    # Calibration: of the (compared) entities scored at least 0.9, how many are exactly right.
    compared = gold_types if gold_types_only else None
    confident = [right for _, s, right in judged(gold, found, compared) if s >= 0.9]

    # Words as the model's tokenizer counts them, so Chinese or Japanese text is not one "word" a line.
    nlp = getattr(engine, "nlp", None)
    if nlp is not None:
        words = sum(sum(not token.is_space for token in nlp.make_doc(text)) for text in texts)
    else:
        words = sum(len(text.split()) for text in texts)

    name = model or getattr(engine, "model", "?")
    typer.echo(f"{dataset}: {len(documents)} documents, {scores.support} gold entities; model {name} ({language})")
    typer.echo(f"{'type':<20}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}{'predicted':>11}")
    rows = [(t, c) for t, c in scores.types.items() if not gold_types_only or t in gold_types]
    rows.append(("overall (micro)", scores))
    for label, counts in rows:
        typer.echo(
            f"{label:<20}{counts.precision:>10.3f}{counts.recall:>10.3f}{counts.f1:>10.3f}"
            f"{counts.support:>10}{counts.predicted:>11}"
        )
    if left_out and not gold_types_only:
        typer.echo(
            f"predicted but never annotated in this set: {', '.join(left_out)} (counted as false positives; "
            "--gold-types-only leaves them out)"
        )
    elif left_out:
        typer.echo(f"left out (never annotated in this set): {', '.join(left_out)}")
    if confident:
        typer.echo(f"scored >= 0.9: {len(confident):,} entities, {sum(confident) / len(confident):.1%} right")
    typer.echo(f"{words:,} words in {seconds:.2f} s: {words / max(seconds, 1e-9):,.0f} words/s")


def _split_joined(found: list[list[dict]], texts: list[str], join: int) -> list[list[dict]]:
    """The entities of documents made of `join` lines each, given back to the line each begins in (offsets
    into that line; an entity running past its line's end keeps its length, so it matches nothing)."""
    import bisect
    import itertools

    per_line: list[list[dict]] = []
    for k, entities in enumerate(found):
        lines = texts[k * join : (k + 1) * join]
        # Where each line starts in the joined text (one newline after each).
        starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
        mine: list[list[dict]] = [[] for _ in lines]
        for entity in entities:
            i = bisect.bisect_right(starts, entity["BeginOffset"]) - 1
            shift = starts[i]
            begin, end = entity["BeginOffset"] - shift, entity["EndOffset"] - shift
            mine[i].append({**entity, "BeginOffset": begin, "EndOffset": end})
        per_line.extend(mine)
    return per_line


# The arguments train-language and calibrate-language share.
_Recipe = Annotated[
    str, typer.Argument(help="A language with a recipe in training/ (de, zh, ...), or the path of a recipe .toml.")
]
_DataDir = Annotated[
    Path | None, typer.Option(help="The shared data folder (default: $OPENCOMPREHEND_SHARED_DATA or ../shared/data).")
]


@app.command("train-language")
def train_language_command(
    recipe: _Recipe,
    output: Annotated[
        Path | None,
        typer.Option(help="Folder to write the model to (default: the shipped src/opencomprehend/models/<lang>)."),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the model folder if it exists.")] = False,
    data_dir: _DataDir = None,
    max_epochs: Annotated[int | None, typer.Option(min=1, help="Override the recipe's max_epochs.")] = None,
    max_seconds: Annotated[float | None, typer.Option(min=1, help="Override the recipe's max_seconds.")] = None,
) -> None:
    """Train a language's entity model from its recipe (training/<lang>.toml) and the shared data sets.

    Every label of the training data is mapped onto Comprehend's types as the recipe says, so the
    model's labels are Comprehend types. The folder gets source.json: data, licences, label maps, figures.
    """
    from opencomprehend.nlp.language_models import train_language

    overrides = {k: v for k, v in {"max_epochs": max_epochs, "max_seconds": max_seconds}.items() if v is not None}
    try:
        train_language(
            recipe, output_dir=output, replace=replace, data_dir=data_dir, overrides=overrides, log=typer.echo
        )
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("calibrate-language")
def calibrate_language_command(
    recipe: _Recipe,
    model: Annotated[
        Path | None,
        typer.Option(help="The model folder to calibrate (default: the shipped src/opencomprehend/models/<lang>)."),
    ] = None,
    data_dir: _DataDir = None,
) -> None:
    """Fit a trained model's score calibration on its recipe's gold dev split (calibration.json).

    train-language does this itself for a recipe with a dev split; this fits it again, e.g. for a model
    trained before, or on a dev split of your own.
    """
    from opencomprehend.nlp.language_models import calibrate_language

    try:
        calibrate_language(recipe, model=model, data_dir=data_dir, log=typer.echo)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def version() -> None:
    """Print the version."""
    from opencomprehend import __version__

    typer.echo(__version__)


if __name__ == "__main__":
    app()
