"""Administration: API credentials, data access roles, the KMS keyring, encrypted output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from opencomprehend.cli.common import DataDirOption, _fail, app
from opencomprehend.config import Settings
from opencomprehend.jobs.errors import StoreUnavailable, describe_database_error

credentials_app = typer.Typer(
    help="API credentials for --auth sigv4: access keys, each mapped to one account.", no_args_is_help=True
)
app.add_typer(credentials_app, name="credentials")


def _opened(open_records: Callable[[Settings], Any], data_dir: Path | None) -> Any:
    """The credentials, roles or keyring of the store the settings name; a problem is one line, exit 2."""
    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    try:
        return open_records(settings)
    except (ValueError, OSError, StoreUnavailable) as exc:
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _fail(describe_database_error(settings.resolved_database_url(), exc)) from None



def _credential_store(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from opencomprehend.server import open_credentials

    return _opened(open_credentials, data_dir)


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

    return _opened(open_roles, data_dir)


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

    return _opened(open_keyring, data_dir)


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
