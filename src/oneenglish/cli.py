"""Command line: `oneenglish --help`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import signal
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import httpx
import typer
import uvicorn
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oneenglish import models, workflows
from oneenglish.bootstrap import create_admin, seed_rbac
from oneenglish.core import metrics
from oneenglish.core.errors import DomainError
from oneenglish.db import encryption, postgres, privileges, rls, sharding
from oneenglish.demo import catalogue as demo_catalogue
from oneenglish.demo import seed as demo
from oneenglish.jobs import reconcile as reconcile_drift
from oneenglish.jobs.digests import DigestReport, send_digests
from oneenglish.jobs.orders import expire_orders
from oneenglish.jobs.reconcile import DriftReport
from oneenglish.jobs.retention import PurgeReport, purge_logs
from oneenglish.payments import events as stripe_events
from oneenglish.payments import service as payments
from oneenglish.payments.schemas import OrderOut
from oneenglish.resources import Resources, open_resources
from oneenglish.settings import Settings, export_to_workers, get_settings
from oneenglish.stack.admin import AdminTools
from oneenglish.stack.api_replicas import ApiReplicas
from oneenglish.stack.errors import StackError
from oneenglish.stack.manager import ServiceLine, Stack

app = typer.Typer(help="OneEnglish backend.", no_args_is_help=True, add_completion=False)
stack_app = typer.Typer(help="The local PostgreSQL and FerretDB servers.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
db_app = typer.Typer(help="PostgreSQL roles and privileges.", no_args_is_help=True)
app.add_typer(db_app, name="db")
admin_app = typer.Typer(
    help="The admin UIs: pgAdmin 4 and Mongo Express on loopback.", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")
keys_app = typer.Typer(help="Field-encryption keys (db/encryption.py).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
payments_app = typer.Typer(help="Payments (README 'Payments').", no_args_is_help=True)
mongo_app = typer.Typer(help="MongoDB at scale (README 'Scaling MongoDB').", no_args_is_help=True)
app.add_typer(mongo_app, name="mongo")
app.add_typer(payments_app, name="payments")

T = TypeVar("T")

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def _print_stack(stack: Stack) -> None:
    _print_lines(stack.status())


def _print_lines(lines: list[ServiceLine]) -> None:
    for line in lines:
        detail = f"  ({line.detail})" if line.detail else ""
        typer.echo(f"{line.name:<13} {line.state:<8} {line.address}{detail}")


@stack_app.command("up")
def stack_up() -> None:
    """Start PostgreSQL and FerretDB (each unless its URL is set) and wait until they answer."""
    stack = Stack(get_settings())
    try:
        stack.up()
    except StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    _print_stack(stack)


@stack_app.command("down")
def stack_down() -> None:
    """Stop the local servers (and the admin UIs, which need them)."""
    settings = get_settings()
    stopped = AdminTools(settings).down() + Stack(settings).down()
    typer.echo("stopped: " + (", ".join(stopped) or "nothing was running"))


@admin_app.command("up")
def admin_up() -> None:
    """Start the local databases if needed, then pgAdmin and Mongo Express; print their logins.

    The first start installs them (pgAdmin into its own virtual environment, Mongo Express from
    its lock file) under DATA_DIR/tools; later starts reuse that."""
    settings = get_settings()
    tools = AdminTools(settings)
    try:
        Stack(settings).up()
        lines = tools.up()
    except StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    _print_lines(lines)
    # The generated passwords are shown once, at the first start; then only where they are.
    shown = tools.logins_shown()
    for login in tools.logins():
        secret = f"(in {login.secret_file})" if shown else login.password
        typer.echo(f"{login.tool:<13} {login.url}  user {login.user}  password {secret}")


@admin_app.command("down")
def admin_down() -> None:
    """Stop pgAdmin and Mongo Express (the databases keep running)."""
    stopped = AdminTools(get_settings()).down()
    typer.echo("stopped: " + (", ".join(stopped) or "nothing was running"))


@admin_app.command("status")
def admin_status() -> None:
    """Show whether the admin UIs run and where."""
    _print_lines(AdminTools(get_settings()).status())


@stack_app.command("status")
def stack_status() -> None:
    """Show what runs and where it listens."""
    _print_stack(Stack(get_settings()))


def run_migrations(settings: Settings) -> None:
    """Apply Alembic migrations to PostgreSQL and create MongoDB indexes (both idempotent)."""
    from alembic import command
    from alembic.config import Config

    from oneenglish.db import mongo

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    config.attributes["settings"] = settings
    command.upgrade(config, "head")
    granted = asyncio.run(privileges.apply(settings))

    models.load_all()
    workflows.load_all()

    async def indexes() -> int:
        client = mongo.create_client(settings)
        try:
            return await mongo.ensure_indexes(client[settings.mongodb_database])
        finally:
            await client.close()

    count = asyncio.run(indexes())
    fields: dict[str, set[str]] = {}
    for spec in mongo.registered_indexes():
        # FerretDB pushes down top-level equality only: a dotted field gets no mirror index.
        if "." not in spec.keys[0][0]:
            fields.setdefault(spec.collection, set()).add(spec.keys[0][0])
    Stack(settings).index_ferretdb(fields)
    asyncio.run(_with_sessionmaker(settings, seed_rbac))
    typer.echo(
        f"migrated PostgreSQL to head; privileges set ({granted} statements); "
        f"{count} MongoDB indexes ensured; roles seeded"
    )


async def _with_sessionmaker(
    settings: Settings, action: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    engine = postgres.create_engine(settings)
    try:
        with rls.system():
            return await action(postgres.create_sessionmaker(engine))
    finally:
        await engine.dispose()


@app.command()
def migrate() -> None:
    """Apply PostgreSQL migrations and create MongoDB indexes."""
    run_migrations(get_settings())


@db_app.command("privileges")
def db_privileges(
    app_role: Annotated[str, typer.Option(help="the application's role")] = "oneenglish_app",
    reporting_role: Annotated[
        str, typer.Option(help="the read-only reporting role")
    ] = "oneenglish_reporting",
) -> None:
    """Print the GRANT statements `migrate` applies (db/privileges.py), for a DBA to run."""
    for statement in privileges.grant_statements(app_role, reporting_role):
        typer.echo(statement + ";")


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Re-wrap every data key under FIELD_ENCRYPTION_MASTER_KEY (the new master key), from
    FIELD_ENCRYPTION_OLD_MASTER_KEY; the encrypted documents are not touched. Afterwards the
    old master key is no longer needed. Safe to repeat or to resume after an interruption."""
    settings = get_settings()
    if settings.field_encryption_old_master_key is None:
        typer.echo("oneenglish: set FIELD_ENCRYPTION_OLD_MASTER_KEY to the current key", err=True)
        raise typer.Exit(2)
    old = base64.b64decode(settings.field_encryption_old_master_key.get_secret_value())
    old_provider = encryption.provider_name(old)

    async def rotate(resources: Resources) -> tuple[int, str]:
        cipher = encryption.open_cipher(
            resources.mongo_client,
            settings.key_vault_namespace,
            settings.field_master_key,
            cache_seconds=settings.field_encryption_key_cache_seconds,
            old_master_key=old,
        )
        try:
            total = await encryption.count_wrapped_by(cipher, old_provider)
            with typer.progressbar(length=total, label="re-wrapping data keys") as bar:
                done = await encryption.rewrap_all(cipher, old_provider, batch_size, bar.update)
            return done, cipher.provider
        finally:
            await cipher.close()

    done, provider = asyncio.run(_with_resources(settings, rotate))
    typer.echo(f"{done} data keys re-wrapped from {old_provider} to {provider}")


@app.command("seed-rbac")
def seed_rbac_command() -> None:
    """Create the default roles and permissions (idempotent)."""
    asyncio.run(_with_sessionmaker(get_settings(), seed_rbac))
    typer.echo("default roles and permissions are in place")


@app.command("create-admin")
def create_admin_command(
    email: Annotated[str, typer.Option(prompt=True)],
    username: Annotated[str, typer.Option(prompt=True)] = "admin",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create an administrator (does nothing if the email is registered)."""

    async def create(resources: Resources) -> bool:
        await seed_rbac(resources.sessionmaker)
        return await create_admin(resources, email.lower(), username, password)

    try:
        created = asyncio.run(_with_resources(get_settings(), create))
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("administrator created" if created else "a user with that email exists; unchanged")


@app.command("seed-demo")
def seed_demo_command(
    learners: Annotated[int, typer.Option(min=1, max=5000, help="How many learners")] = 200,
    force: Annotated[
        bool, typer.Option(help="Seed even a database that holds accounts of real users")
    ] = False,
) -> None:
    """Demo data through the application itself: courses A1-C2 with their teachers, learners
    with 60 days of study, quizzes, achievements and chat (idempotent; README "Demo data")."""
    settings = get_settings()
    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        tasks = {
            "courses": bar.add_task("courses", total=len(demo_catalogue.COURSES)),
            "learners": bar.add_task("learners", total=learners),
            "chat": bar.add_task("chat", total=len(demo_catalogue.COURSES)),
        }
        try:
            report = asyncio.run(
                demo.seed_demo(
                    settings,
                    learners,
                    force=force,
                    step=lambda phase, n: bar.advance(tasks[phase], n),
                )
            )
        except demo.DemoRefused as exc:
            typer.echo(f"seed-demo: {exc}", err=True)
            raise typer.Exit(1) from exc
    _print_demo_report(report)


def _print_demo_report(report: demo.DemoReport) -> None:
    if not (report.courses_created or report.learners_created):
        typer.echo(
            f"the demo data is already there ({report.courses_existing} courses, "
            f"{report.learners_existing} learners): nothing added"
        )
    else:
        typer.echo(
            f"created {report.courses_created} courses ({report.lessons_created} lessons), "
            f"{report.teachers_created} teachers, {report.learners_created} learners "
            f"({report.learners_existing} already there), {report.enrollments} enrolments, "
            f"{report.progress_updates} progress updates, {report.quiz_attempts} quiz "
            f"attempts, {report.lessons_completed} lessons completed, {report.messages} "
            f"chat messages in {report.seconds:.0f} s"
        )
    typer.echo(
        f"log in as {demo.ADMIN_EMAIL}, a teacher (e.g. emma.collins@{demo.DEMO_DOMAIN}) "
        f"or a learner (learner0001@{demo.DEMO_DOMAIN}); every demo password: "
        f"{demo.DEMO_PASSWORD}"
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="One recovery pass, then exit")] = False,
    ignore_lease: Annotated[
        bool,
        typer.Option(
            help="Also take sagas whose request may still be running (only when no API "
            "process is alive)"
        ),
    ] = False,
) -> None:
    """Finish or compensate unfinished sagas and deliver pending events (what every API
    process also does in the background)."""

    async def work(resources: Resources) -> int:
        if once:
            total = 0
            while (done := await resources.runner.recover_once(ignore_lease=ignore_lease)) > 0:
                total += done
            return total
        await resources.runner.relay_forever()
        return 0

    processed = asyncio.run(_with_resources(get_settings(), work))
    counts = asyncio.run(_with_resources(get_settings(), lambda r: r.runner.status_counts()))
    typer.echo(f"advanced {processed} sagas; now: {counts}")


@app.command()
def reconcile(
    repair: Annotated[bool, typer.Option(help="Repair the drift found")] = False,
) -> None:
    """Report (and with --repair, fix) drift between PostgreSQL and MongoDB. Exits 1 when drift
    remains."""

    async def run_reconcile(resources: Resources) -> DriftReport:
        return await reconcile_drift.reconcile(
            resources.sessionmaker, resources.mongo_db, resources.settings, repair=repair
        )

    report = asyncio.run(_with_resources(get_settings(), run_reconcile))
    typer.echo(f"users checked:            {report.users_checked}")
    typer.echo(f"users without a profile:  {len(report.missing_profiles)}")
    typer.echo(f"users without settings:   {len(report.missing_settings)}")
    for where, ids in sorted(report.orphans.items()):
        typer.echo(f"documents in {where} pointing at missing rows: {len(ids)}")
    typer.echo(f"drift found: {report.found}, repaired: {report.repaired}")
    if report.remaining:
        typer.echo(f"drift remaining: {report.remaining}", err=True)
        raise typer.Exit(1)


@app.command("purge-logs")
def purge_logs_command() -> None:
    """Delete activity and error log entries older than their retention (audit logs are kept
    forever); every API process also does this every LOG_PURGE_INTERVAL_SECONDS."""
    settings = get_settings()

    async def purge(resources: Resources) -> PurgeReport:
        return await purge_logs(
            resources.mongo_db, resources.settings, sessionmaker=resources.sessionmaker
        )

    report = asyncio.run(_with_resources(settings, purge))
    typer.echo(
        f"deleted {report.activities} activity entries older than "
        f"{settings.activity_retention_days} days and {report.error_logs} error log entries "
        f"older than {settings.error_log_retention_days} days, and "
        f"{report.transient_rows} expired rate-limit, throttle and idempotency rows"
    )


@app.command("send-digests")
def send_digests_command(
    at: Annotated[
        str | None,
        typer.Option(help="Act as if it were this time (ISO 8601; UTC if no offset); default: now"),
    ] = None,
) -> None:
    """Mail the daily and weekly digests that are due (each user's once per period, however
    many processes run this at once); every API process also does this every
    DIGEST_INTERVAL_SECONDS. The mails are then sent by the saga relay."""
    settings = get_settings()
    try:
        when = datetime.fromisoformat(at) if at else None
    except ValueError as exc:
        raise typer.BadParameter(f"--at: {exc}") from exc
    now = when.replace(tzinfo=when.tzinfo or UTC) if when else None

    async def send(resources: Resources) -> DigestReport:
        report = await send_digests(resources.sessionmaker, resources.mongo_db, settings, now)
        while await resources.runner.recover_once() > 0:  # deliver them now, if it can
            pass
        return report

    report = asyncio.run(_with_resources(settings, send))
    typer.echo(f"{report.claimed} digests due, {report.mailed} mailed (the others had nothing)")


@app.command("expire-orders")
def expire_orders_command() -> None:
    """Expire the pending orders whose checkout session has ended, freeing their coupons
    (every API process also does this every ORDER_EXPIRY_INTERVAL_SECONDS)."""
    settings = get_settings()

    async def expire(resources: Resources) -> int:
        return await expire_orders(resources.sessionmaker)

    typer.echo(f"{asyncio.run(_with_resources(settings, expire))} orders expired")


SIMULATED_EVENTS = {
    "paid": "checkout.session.completed",
    "expired": "checkout.session.expired",
    "refunded": "charge.refunded",
}


@payments_app.command("simulate")
def simulate_payment(
    order_id: Annotated[str, typer.Argument(help="The order's id")],
    event: Annotated[
        str, typer.Option(help="paid (checkout.session.completed), expired or refunded")
    ] = "paid",
    api: Annotated[str, typer.Option(help="The running API")] = "http://127.0.0.1:8000",
) -> None:
    """Play Stripe's part: send the running API the webhook event Stripe would send for the
    order, signed with this machine's webhook secret (stripe-mock sends no webhooks)."""
    settings = get_settings()
    if event not in SIMULATED_EVENTS:
        raise typer.BadParameter(f"--event: one of {', '.join(SIMULATED_EVENTS)}")
    try:
        wanted = uuid.UUID(order_id)
    except ValueError as exc:
        raise typer.BadParameter(f"{order_id!r} is not an order id") from exc

    async def read(resources: Resources) -> OrderOut | None:
        async with resources.sessionmaker() as db:
            return await payments.order_by_id(db, wanted)

    order = asyncio.run(_with_resources(settings, read))
    if order is None:
        typer.echo(f"error: no order {order_id}", err=True)
        raise typer.Exit(1)
    shown = order.model_dump(mode="json")
    if event == "refunded":
        if order.payment is None or order.payment.provider_payment_id is None:
            typer.echo("error: the order has no payment to refund", err=True)
            raise typer.Exit(1)
        amount = stripe_events.minor_units(order.total, order.currency)
        obj = stripe_events.charge_refunded(
            order.payment.provider_payment_id, amount, order.currency
        )
    else:
        obj = stripe_events.checkout_session(shown)
    body, signature = stripe_events.signed(
        stripe_events.event(SIMULATED_EVENTS[event], obj), settings.webhook_secret
    )
    response = httpx.post(
        f"{api.rstrip('/')}/api/payments/webhook",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        timeout=30,
    )
    typer.echo(f"{SIMULATED_EVENTS[event]}: {response.status_code} {response.text}")
    if response.status_code != 200:
        raise typer.Exit(1)


async def _with_resources(settings: Settings, action: Callable[[Resources], Awaitable[T]]) -> T:
    # A command acts for the whole platform: every row (db/rls.py), as the relay does.
    with rls.system():
        async with open_resources(settings) as resources:
            return await action(resources)


@mongo_app.command("shard-plan")
def shard_plan() -> None:
    """Print the mongosh commands that shard MONGODB_DATABASE on a real cluster, as each
    collection's plan says (db/sharding.py), with each collection's reason."""
    settings = get_settings()
    models.load_all()
    for line in sharding.shard_commands(settings.mongodb_database):
        typer.echo(line)


WORKER_HEALTHCHECK_SECONDS = 60


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: WORKERS)")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False,
) -> None:
    """Serve the API (OpenAPI docs at /docs)."""
    settings = get_settings()
    processes = workers or settings.workers
    with metrics_directory(settings, processes):
        _serve(settings, host, port, processes, reload)


def _exit_cleanly(_signal: int, _frame: object) -> None:
    raise SystemExit(0)


@contextlib.contextmanager
def metrics_directory(settings: Settings, workers: int) -> Iterator[None]:
    """Several workers share one port, so /metrics must sum all of them: prometheus-client's
    multiprocess mode, in PROMETHEUS_MULTIPROC_DIR (exported before the workers import it). Its
    files are per process id and mean something for one run only: a configured directory is
    emptied first, and one made here is removed afterwards."""
    if workers < 2:
        yield
        return
    given = settings.prometheus_multiproc_dir
    directory = given or Path(tempfile.mkdtemp(prefix="oneenglish-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    export_to_workers(metrics.MULTIPROCESS_ENV, str(directory))
    try:
        yield
    finally:
        if given is None:
            shutil.rmtree(directory, ignore_errors=True)
            export_to_workers(metrics.MULTIPROCESS_ENV, None)


def _serve(
    settings: Settings, host: str | None, port: int | None, workers: int, reload: bool
) -> None:
    # uvicorn handles SIGTERM itself (stop accepting, finish what is in flight, run the
    # lifespan's end), then restores the previous handler and raises the signal again: this
    # handler makes that a clean exit (status 0) rather than death by the signal.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "oneenglish.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        # X-Forwarded-* are honoured inside the app, from FORWARDED_ALLOW_IPS only (app.py).
        proxy_headers=False,
        server_header=False,
        # uvicorn's supervisor kills a worker that does not answer its ping within this time,
        # and a new worker answers only once it has imported the application (spawned, it
        # re-imports the command's module before it starts its ping thread). Its default of 5 s
        # is less than an import on a loaded 2-core machine (4–10 s, measured with bench (d)
        # running): a replaced worker was killed again and again and the API ran on one.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        # SIGTERM: stop accepting, let what is in flight finish for this long, then the
        # lifespan's end writes out the log queues (app.py).
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        # WebSockets (realtime/): the websockets library; a frame over the request body limit
        # is refused by uvicorn itself (1009), the chat limit below it by the app.
        ws="websockets-sansio",
        ws_max_size=settings.max_request_body_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # permessage-deflate keeps two zlib streams per socket (about 256 KiB each, measured
        # with `make bench-ws`), for chat frames of a few hundred bytes.
        ws_per_message_deflate=False,
    )


@app.command()
def run(
    api_replicas: Annotated[
        int,
        typer.Option(
            min=1,
            max=16,
            help="API processes behind nginx on PORT (1: one process on PORT, no nginx)",
        ),
    ] = 1,
) -> None:
    """Start the local stack, migrate, and serve; Ctrl-C or SIGTERM stops what this command
    started."""
    settings = get_settings()
    stack = Stack(settings)
    stop = threading.Event()
    # SIGTERM (`kill`, `make run` stopped by its own SIGTERM) ends the run as Ctrl-C does: the
    # servers this command started are stopped. uvicorn installs its own handler while it
    # serves (one process), and returns.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.up()
        _print_stack(stack)
        run_migrations(settings)
        if stop.is_set():  # SIGTERM while the stack was starting
            pass
        elif api_replicas == 1:
            typer.echo(f"serving on http://{settings.host}:{settings.port} (docs at /docs)")
            serve(host=None, port=None, workers=None, reload=False)
        else:
            _serve_replicas(settings, api_replicas, stop)
    except StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        # The admin UIs go with `make run`: they would lose their databases anyway.
        stopped = AdminTools(settings).down() + stack.down(only_started=True)
        if stopped:
            typer.echo("stopped: " + ", ".join(stopped))


def _serve_replicas(settings: Settings, count: int, stop: threading.Event) -> None:
    replicas = ApiReplicas(settings, count)
    try:
        replicas.start()
        ports = ", ".join(str(port) for port in replicas.ports)
        typer.echo(
            f"serving on http://127.0.0.1:{settings.port} (docs at /docs): nginx in front of "
            f"{count} API replicas on :{ports} (logs in {replicas.root})"
        )
        replicas.serve_until(
            stop, lambda port: typer.echo(f"the API replica on :{port} exited; started again")
        )
    finally:
        typer.echo("stopped: " + ", ".join(replicas.stop()))


def main() -> None:
    """The `oneenglish` command: a setting that cannot work (a missing CA file, a weak secret in
    production) is one clear line per problem and exit status 2, never a traceback."""
    try:
        app()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            typer.echo(f"oneenglish: invalid setting {field}: {error['msg']}", err=True)
        raise SystemExit(2) from None
