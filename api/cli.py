"""The ``minsheng`` command line: serve, work, transcribe, classify, train, evaluate, retrain and the rest."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from models.errors import DomainError, InvalidInput

if TYPE_CHECKING:
    from api.settings import Settings


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API, the pages and the in-process worker (in one or several processes)."""
    import uvicorn

    from api.app import create_app
    from api.context import build_context
    from api.logs import configure_logging
    from api.settings import Settings

    overrides = {
        k: v
        for k, v in (("host", args.host), ("port", args.port), ("api_processes", args.processes))
        if v is not None
    }
    settings = Settings(**overrides)
    configure_logging()
    if settings.api_processes == 1:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="info",
            access_log=settings.access_log,
            **proxy_options(settings),
        )
        return 0
    # Upgrade the schema, seed and activate a classifier once, here, before the processes start;
    # they take every other setting from the same environment.
    build_context(settings).engine.dispose()
    uvicorn.run(
        "api.app:served_app",
        factory=True,
        workers=settings.api_processes,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
        **proxy_options(settings),
    )
    return 0


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header options: believe X-Forwarded-For and X-Forwarded-Proto only from
    the proxies in MINSHENG_TRUSTED_PROXIES. uvicorn's own default trusts 127.0.0.1, so a client
    of a server on loopback (or of a proxy that sends no such header) could pick its own address
    with the header and so slip past every per-address rate limit."""
    trusted = settings.trusted_proxy_list
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


def cmd_worker(args: argparse.Namespace) -> int:
    """Run a Celery worker node (needs MINSHENG_BROKER_URL)."""
    from api.logs import configure_logging
    from api.settings import Settings
    from api.worker import run_worker

    settings = Settings()
    configure_logging()
    run_worker(settings, concurrency=args.concurrency or settings.worker_concurrency, loglevel=args.loglevel)
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    """Transcribe files; one JSON line per file."""
    from api.settings import Settings
    from intake.audio import AudioLimits, load_audio
    from intake.engines import build_transcriber

    settings = Settings()
    language = None if args.language == "auto" else args.language
    transcriber = build_transcriber(
        args.engine, settings.weights_dir, compute_type=settings.asr_compute_type, threads=args.threads
    )
    limits = AudioLimits(
        max_bytes=settings.max_upload_bytes,
        max_seconds=settings.max_audio_seconds,
        min_seconds=settings.min_audio_seconds,
    )
    failures = 0
    for name in args.files:
        try:
            audio = load_audio(Path(name), limits)
            result = transcriber.transcribe(audio.samples, language)
        except DomainError as exc:
            failures += 1
            if args.json:
                _print_json({"file": name, "error": exc.kind, "detail": exc.detail})
            else:
                print(f"{name}: {exc.detail}", file=sys.stderr)
            continue
        record = {
            "file": name,
            "language": result.language,
            "text": result.text,
            "segments": [s.__dict__ for s in result.segments],
            "confidence": result.confidence,
            "seconds": result.seconds,
        }
        if args.json:
            _print_json(record)
        else:
            print(f"{name} [{result.language}, confidence {result.confidence:.2f}]: {result.text}")
    return 1 if failures else 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a classifier from labelled CSV files into a directory."""
    from classify.train import train_to_dir
    from classify.vector_store import vector_file

    store = vector_file(Path(args.vector_cache)) if args.vector_cache else None
    info = train_to_dir([Path(p) for p in args.data], Path(args.out), args.seed, vector_store=store)
    _print_json(
        {
            "out": str(args.out),
            "sha256": info.sha256,
            "n_examples": info.metadata["n_examples"],
            "metrics": info.metadata["metrics"],
        }
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a trained classifier on a labelled CSV."""
    from classify.model import Classifier
    from classify.train import evaluate, read_labelled_csv

    labels = [label.strip() for label in args.labels.split(",") if label.strip()] if args.labels else None
    report = evaluate(
        Classifier.load(Path(args.model)), read_labelled_csv([Path(p) for p in args.data]), labels
    )
    if args.json:
        _print_json(report)
    else:
        print(f"n={report['n']} accuracy={report['accuracy']:.3f} macro_f1={report['macro_f1']:.3f}")
        for label, row in report["per_class"].items():
            print(
                f"  {label:20s} p={row['precision']:.3f} r={row['recall']:.3f} f1={row['f1']:.3f} "
                f"n={row['support']}"
            )
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    """Classify texts with a model directory, or with the server's active model."""
    from classify.model import Classifier

    if args.model:
        classifier = Classifier.load(Path(args.model))
    else:
        from api.context import build_context
        from api.settings import Settings

        classifier = build_context(Settings()).classifiers.active()[1]
    for text, prediction in zip(args.texts, classifier.predict(args.texts), strict=True):
        record = {
            "text": text,
            "label": prediction.label,
            "confidence": prediction.confidence,
            "probabilities": dict(prediction.probabilities),
        }
        if args.json:
            _print_json(record)
        else:
            print(f"{prediction.label} ({prediction.confidence:.2f}): {text}")
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    """Queue a retraining run as a job, run the due jobs here, and print the run's outcome."""
    import time

    from api.context import build_context
    from api.settings import Settings
    from models.db import unit_of_work
    from models.reviews import queries as review_queries
    from models.reviews.tables import RunState

    context = build_context(Settings())
    try:
        with unit_of_work(context.factory) as session:
            run, _ = context.learner.request_retrain(session, trigger="cli", requested_by=args.by)
            run_id = run.id
        if args.background:
            _print_json({"run": run_id, "state": "queued"})
            return 0
        context.runner.drain()
        deadline = time.monotonic() + args.timeout
        while True:  # another worker (the server's) may have taken the job
            with unit_of_work(context.factory) as session:
                run = review_queries.get_run(session, run_id)
                record = {
                    "run": run.id,
                    "state": run.state,
                    "candidate_version": run.candidate_version_id,
                    "baseline_version": run.baseline_version_id,
                    "reason": run.reason,
                    "eval_set": run.eval_set,
                    "candidate_macro_f1": run.candidate_metrics.get("macro_f1"),
                    "baseline_macro_f1": run.baseline_metrics.get("macro_f1"),
                    "reclassified": run.reclassified,
                }
            if record["state"] not in RunState.OPEN or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        _print_json(record)
        return 0 if record["state"] in ("promoted", "rejected") else 1
    finally:
        context.engine.dispose()


def cmd_import(args: argparse.Namespace) -> int:
    """Store labelled CSV files (columns text,label) as training data for the next retraining."""
    from api.context import build_context
    from api.settings import Settings

    context = build_context(Settings())
    try:
        result = context.learner.import_csv([Path(p) for p in args.data])
    finally:
        context.engine.dispose()
    _print_json(result)
    return 0


def _read_password(given: str | None) -> str:
    if given is not None:
        return given
    import getpass

    if not sys.stdin.isatty():
        # Piped in (scripts, containers): the first line is the password.
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise InvalidInput("The two passwords differ.")
    return first


def cmd_create_admin(args: argparse.Namespace) -> int:
    """Create an administrator account (the first one, or another)."""
    from api import accounts
    from api.settings import Settings
    from models.db import make_session_factory, unit_of_work

    username = args.username if args.username is not None else input("Username: ")
    password = _read_password(args.password)
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = accounts.open_database(settings.resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            staff = accounts.create_staff(
                session,
                username=username,
                password=password,
                roles=[accounts.ADMIN],
                display_name=args.display_name,
            )
    finally:
        engine.dispose()
    print(f"Created administrator {staff.username!r}. Sign in at /login.")
    return 0


def cmd_create_token(args: argparse.Namespace) -> int:
    """Create an API token for an existing account and print it (it is shown only this once)."""
    from api import accounts
    from api.settings import Settings
    from models.db import make_session_factory, unit_of_work

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = accounts.open_database(settings.resolved_database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            token = accounts.create_token_for(session, args.username, args.name)
    finally:
        engine.dispose()
    print(token)
    print(
        f"API token {args.name!r} for {args.username!r}: send it as 'Authorization: Bearer <token>'. "
        "It is shown only this once.",
        file=sys.stderr,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="minsheng", description="Voice-first intake of villagers' suggestions."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server with its in-process worker")
    serve.add_argument("--host", default=None, help="default 127.0.0.1 (MINSHENG_HOST)")
    serve.add_argument("--port", type=int, default=None, help="default 8000 (MINSHENG_PORT)")
    serve.add_argument(
        "--processes",
        type=int,
        default=None,
        help="processes serving HTTP; one runs the worker (MINSHENG_API_PROCESSES, default 1)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a Celery worker node (needs MINSHENG_BROKER_URL)")
    worker.add_argument(
        "--concurrency", type=int, default=None, help="worker processes (MINSHENG_WORKER_CONCURRENCY, 1)"
    )
    worker.add_argument("--loglevel", default="INFO", help="Celery log level (default INFO)")
    worker.set_defaults(func=cmd_worker)

    tr = sub.add_parser("transcribe", help="transcribe audio files")
    tr.add_argument("files", nargs="+", metavar="FILE")
    tr.add_argument("--engine", choices=["faster-whisper", "openai-whisper"], default="faster-whisper")
    tr.add_argument("--language", choices=["auto", "zh", "en"], default="auto")
    tr.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    tr.add_argument("--json", action="store_true", help="one JSON line per file")
    tr.set_defaults(func=cmd_transcribe)

    train = sub.add_parser("train", help="train a classifier from CSV files (columns text,label)")
    train.add_argument("--data", action="append", required=True, metavar="CSV")
    train.add_argument("--out", required=True, metavar="DIR")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--vector-cache", metavar="FILE", help="SQLite file keeping sentence vectors")
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate a classifier on a labelled CSV")
    ev.add_argument("--model", required=True, metavar="DIR")
    ev.add_argument("--data", action="append", required=True, metavar="CSV")
    ev.add_argument(
        "--labels",
        default=None,
        metavar="L1,L2,...",
        help="average macro-F1 over these categories only (default: those in the data or predictions)",
    )
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evaluate)

    cl = sub.add_parser("classify", help="classify texts")
    cl.add_argument("texts", nargs="+", metavar="TEXT")
    cl.add_argument("--model", default=None, metavar="DIR", help="default: the server's active model")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=cmd_classify)

    rt = sub.add_parser(
        "retrain", help="retrain the classifier on seed + reviewed + imported data; promote if not worse"
    )
    rt.add_argument("--background", action="store_true", help="only queue it for the server's worker")
    rt.add_argument("--by", default="cli", help="who asks (recorded with the run)")
    rt.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for another worker")
    rt.set_defaults(func=cmd_retrain)

    im = sub.add_parser("import", help="add labelled CSV files (columns text,label) to the training data")
    im.add_argument("--data", action="append", required=True, metavar="CSV")
    im.set_defaults(func=cmd_import)

    ca = sub.add_parser("create-admin", help="create an administrator account")
    ca.add_argument("--username", default=None, help="asked for when left out")
    ca.add_argument(
        "--password", default=None, help="asked for (twice) when left out; read from stdin when piped"
    )
    ca.add_argument("--display-name", default=None)
    ca.set_defaults(func=cmd_create_admin)

    ct = sub.add_parser("create-token", help="create an API token for a staff account")
    ct.add_argument("--username", required=True)
    ct.add_argument("--name", required=True, help="what will use the token, e.g. 'report script'")
    ct.set_defaults(func=cmd_create_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minsheng`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"minsheng: {exc.detail}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"minsheng: file not found: {exc.filename}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        # A MINSHENG_* variable (or an option that sets one) is invalid.
        for error in exc.errors():
            if error["loc"]:
                name = "MINSHENG_" + "_".join(str(part) for part in error["loc"]).upper()
                print(f"minsheng: invalid setting {name}: {error['msg']}", file=sys.stderr)
            else:
                print(f"minsheng: invalid settings: {error['msg']}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("minsheng: cancelled", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
