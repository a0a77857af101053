"""What each `ptce` verb does: call one core function, present the result in French."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue import vocabulary
from ptce_pipeline.cli.output import drop_closed, err, out, out_json, reader_gone
from ptce_pipeline.config import Settings, load_settings
from ptce_pipeline.errors import ConfigError, HomeError, NotFound, PtceError, WarehouseBusy


def dispatch(args, handler=None) -> int:
    """Run a verb's handler (by default `cmd_<verb>` of this module) with the exit codes of the
    contract and one French line for any error."""
    handler = handler or globals()[f"cmd_{args.verb}"]
    try:
        return _quietly(handler, args)
    except WarehouseBusy as exc:
        err(f"Occupé : {exc}")
        return 3
    except PtceError as exc:
        err(f"Erreur : {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("Interrompu.")
        return 130
    except BrokenPipeError as exc:
        if not reader_gone(sys.stdout):  # a socket, not our reader: a real error
            return _crashed(args, exc)
        drop_closed(sys.stdout)  # a print outside `out` (serve's lines): stop quietly
        return 0
    except Exception as exc:
        return _crashed(args, exc)


def _crashed(args, exc: BaseException) -> int:
    """Our own bug: one line here, the traceback in a log file (called while handling it)."""
    log = _log_crash(args)
    err(
        f"Erreur interne : {type(exc).__name__} : {str(exc)[:300]}"
        + (f" (détails : {log})" if log else "")
    )
    return 2


def _quietly(handler, args) -> int:
    """Run a verb with the libraries' warnings (pandas, pandera, openpyxl, Prefect) silenced:
    a user reads French results and one `Erreur : …` line, not English library notes. The
    filters are restored afterwards (`main` may run in-process, in tests)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(handler(args) or 0)


def _log_crash(args) -> str | None:
    with contextlib.suppress(Exception):
        settings = load_settings(home=getattr(args, "home", None), demo=args.verb == "demo")
        path = settings.home / ".ptce-erreurs.log"
        if settings.home.is_dir():
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(
                    f"--- {dt.datetime.now().isoformat()} ptce {args.verb}\n{traceback.format_exc()}\n"
                )
            return str(path)
    return None


def _settings(args, **kw) -> Settings:
    return load_settings(home=getattr(args, "home", None), **kw)


def _require_home(settings: Settings) -> None:
    if not settings.home.is_dir():
        raise HomeError(
            f"Le dossier {settings.home} n'existe pas : créez l'installation avec `ptce init --home {settings.home}`."
        )
    if not settings.registry_path.exists():
        raise HomeError(
            f"{settings.home} n'est pas une installation ptce (poles.csv introuvable) : "
            f"lancez `ptce init --home {settings.home}`."
        )


def _by(args, settings: Settings) -> str:
    """Who records a correction: --by, else the settings' user (`config.recording_user`)."""
    return getattr(args, "by", None) or settings.user


# --------------------------------------------------------------------------------------------
def cmd_init(args) -> int:
    from ptce_pipeline.catalogue import load_config, write_registry_header
    from ptce_pipeline.ingestion.inbox import ensure_pole_folders
    from ptce_pipeline.store.configs import archive_current
    from ptce_pipeline.store.warehouse import create_empty

    settings = _settings(args)
    settings.home.mkdir(parents=True, exist_ok=True)
    created = []
    if not settings.registry_path.exists():
        write_registry_header(settings.registry_path)
        created.append("poles.csv (en-tête seul : inscrivez-y les pôles)")
    cfg = load_config(settings)
    settings.inbox.mkdir(exist_ok=True)
    ensure_pole_folders(settings, cfg.registry.poles)
    from ptce_pipeline.store.lock import warehouse_lock

    with warehouse_lock(settings.lock_path, now=settings.clock()):
        existed = settings.live_db.exists()
        create_empty(settings)
        archive_current(settings, cfg)
    if not existed:
        created.append("warehouse/ptce.duckdb")
    out(f"Installation prête : {settings.home}")
    for c in created:
        out(f"  créé : {c}")
    out(f"  pôles inscrits : {len(cfg.registry.poles)} (un dossier de dépôt chacun dans inbox/)")
    return 0


def cmd_template(args) -> int:
    from ptce_pipeline.catalogue import load_config, load_contact
    from ptce_pipeline.template import build_template, save_workbook

    settings = _settings(args)
    if args.prefill:
        return _prefilled_template(args, settings)
    pole = None
    deadline = None
    if args.pole or args.period:
        cfg = load_config(settings) if settings.registry_path.exists() else None
        ref = cfg.ref if cfg else _ref(settings)
        if args.pole:
            if cfg is None or args.pole not in cfg.registry.poles:
                raise ConfigError(
                    f"Le pôle {args.pole} n'est pas inscrit dans {settings.registry_path}."
                )
            pole = cfg.registry.poles[args.pole]
        if args.period and cfg is not None:
            deadline = cfg.campaigns.deadline(args.period)
        elif args.period:
            deadline = dt.date(args.period + 1, 3, 31)
    else:
        ref = _ref(settings)
    path = Path(args.output)
    if path.parent and not path.parent.exists():
        raise ConfigError(f"Le dossier {path.parent} n'existe pas.")
    contact = load_contact(settings.contact_path, ref.contact)
    wb = build_template(ref, pole=pole, period=args.period, deadline=deadline, contact=contact)
    save_workbook(wb, path)
    out(
        f"Modèle écrit : {path} (modèle version {__import__('ptce_pipeline').TEMPLATE_VERSION}, référentiel {ref.version})"
    )
    return 0


def _prefilled_template(args, settings: Settings) -> int:
    from ptce_pipeline import TEMPLATE_VERSION
    from ptce_pipeline.ingestion.prepare import prefilled_workbook

    if not (args.pole and args.period):
        raise ConfigError("--prefill demande --pole et --period.")
    _require_home(settings)
    path = Path(args.output)
    if path.parent and not path.parent.exists():
        raise ConfigError(f"Le dossier {path.parent} n'existe pas.")
    data, earlier = prefilled_workbook(settings, args.pole, args.period)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    out(f"Modèle écrit : {path} (modèle version {TEMPLATE_VERSION})")
    if earlier is None:
        out(f"Aucune déclaration de {args.pole} avant {args.period} : modèle vierge.")
    else:
        out(
            f"Pré-rempli depuis la déclaration {earlier.period} en vigueur (dépôt n° "
            f"{earlier.submission_id}) ; les {args.period} valeurs des indicateurs sont à saisir."
        )
    return 0


def _ref(settings: Settings):
    from ptce_pipeline.catalogue import load_referentiel

    return load_referentiel(settings.referentiel_path if settings.home.is_dir() else None)


def cmd_check(args) -> int:
    from ptce_pipeline.ingestion.check import check_files, summary, terminal_width

    settings = _settings(args)
    if args.home and not settings.home.is_dir():
        raise HomeError(f"Le dossier {settings.home} n'existe pas.")
    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise NotFound("Fichier introuvable : " + ", ".join(missing))
    notes: list[str] = []
    annotate = Path(args.annotate) if args.annotate else None
    results = check_files(settings, files, pole=args.pole, annotate=annotate, notes=notes)
    for note in notes:
        err(f"Note : {note}")
    if args.json:
        data = [r.to_json(with_annotated=annotate is not None) for r in results]
        out_json(data)
    else:
        width = terminal_width()
        for r in results:
            for line in r.lines(width):
                out(line)
            out()
        out(summary(results))
    return 1 if any(r.refused for r in results) else 0


def _run_flow(args, name: str, **params) -> tuple[Any, bool]:
    """Take the warehouse lock (before Prefect starts: a busy warehouse costs nothing), then
    run the flow → (its data, failed?); with nothing to do, its data without Prefect."""
    from ptce_pipeline.orchestration.noop import without_prefect
    from ptce_pipeline.store.lock import warehouse_lock

    settings = _settings(args, settle=getattr(args, "settle", None))
    _require_home(settings)
    with warehouse_lock(settings.lock_path, what=f"ptce {args.verb}", now=settings.clock()):
        idle = without_prefect(settings, name, **params)
        if idle is not None:
            return idle, False
        from ptce_pipeline.orchestration.runner import run_flow

        return run_flow(settings, name, **params)


def _print_report(data: dict[str, Any]) -> None:
    from ptce_pipeline.ingestion.report import RunReport

    for line in RunReport.from_dict(data).terminal_lines():
        out(line)


def cmd_ingest(args) -> int:
    data, failed = _run_flow(args, "ingest", settle=args.settle)
    if args.json:
        out_json(data)
    else:
        _print_report(data)
    return 1 if failed or data.get("needs_attention") else 0


def cmd_publish(args) -> int:
    data, failed = _run_flow(args, "publish", periods=args.period)
    _print_publication(data)
    return 1 if failed or data.get("error") else 0


def _print_publication(data: dict[str, Any]) -> None:
    if data.get("error"):
        out(f"Publication non faite : {data['error']}")
        return
    paths = {str(k): v for k, v in data.get("paths", {}).items()}
    public = {str(k): v for k, v in data.get("public_paths", {}).items()}
    for period in data.get("published", []):
        out(f"Tableaux {period} publiés : {paths[str(period)]} (diffusion restreinte)")
        if str(period) in public:
            out(f"Données ouvertes {period} publiées : {public[str(period)]}")
    if not data.get("published"):
        out(
            "Aucune période à republier : les données n'ont pas changé depuis la dernière publication."
        )


def cmd_run(args) -> int:
    data, failed = _run_flow(args, "run", settle=args.settle, periods=args.period)
    ingest, publication = data["ingest"], data["publication"]
    if args.json:
        out_json(data)
    else:
        _print_report(ingest)
        _print_publication(publication)
    attention = data.get("ingest_failed") or ingest.get("needs_attention")
    return 1 if failed or attention or publication.get("error") else 0


def cmd_demo(args) -> int:
    from ptce_pipeline.orchestration.demo import run_demo

    settings = load_settings(home=args.home, demo=True, settle=0)
    out(f"Démonstration dans {settings.home}")
    settings.home.mkdir(parents=True, exist_ok=True)
    data, failed = run_demo(settings, args.seed, out)
    ingest = data["ingest"]
    _print_report(ingest)
    for line in data["review"]:
        out(line)
    _print_publication(data["publication"])
    from ptce_pipeline.store.status import completeness

    status = completeness(settings)
    if status and status["period"]:
        counts = ", ".join(
            f"{vocabulary.label(k)} {v}" for k, v in sorted(status["counts"].items())
        )
        out(f"Complétude {status['period']} : {status['expected']} pôles attendus ({counts}).")
    for audience, label in (
        ("public", "Données ouvertes (tout public)"),
        ("interne", "Tableaux nationaux (diffusion restreinte)"),
    ):
        root = settings.publications_for(audience)
        for period in sorted((p.name for p in root.glob("[0-9]*")), key=int):
            out(f"{label} : {root / period / 'index.html'}")
    snapshot = str(settings.snapshot_db).replace("'", "\\'")
    out(
        "Interroger l'entrepôt : python -c \"import duckdb; print(duckdb.connect("
        f"'{snapshot}', read_only=True).sql('SELECT * FROM national_indicators LIMIT 5'))\""
    )
    attention = data.get("ingest_failed") or ingest.get("needs_attention")
    return 1 if failed or attention or data["publication"].get("error") else 0


def cmd_remind(args) -> int:
    from ptce_pipeline.mail import remind

    settings = _settings(args)
    _require_home(settings)
    report = remind(settings, dry_run=args.dry_run)
    if args.json:
        out_json(report.to_dict())
    else:
        for item in report.planned:
            out(f"  {', '.join(item['to']) or 'notification'} : {item['subject']}")
        for line in report.lines:
            out(line)
    # 1: some message could not be sent (it waits for the next run)
    return 1 if report.needs_attention else 0


def cmd_status(args) -> int:
    from ptce_pipeline.store.status import lines, period_status

    settings = _settings(args)
    _require_home(settings)
    status = period_status(settings, args.period)
    if status is None:
        raise HomeError("L'entrepôt n'existe pas encore : lancez `ptce init` puis `ptce ingest`.")
    if args.json:
        out_json(status.to_json())
        return 0
    for line in lines(status):
        out(line)
    return 0


def _correction(args, fn, **kw) -> int:
    from ptce_pipeline.store.lock import warehouse_lock

    settings = _settings(args)
    _require_home(settings)
    with warehouse_lock(settings.lock_path, now=settings.clock()):
        result = fn(settings, **kw)
    for line in result.lines:
        out(line)
    return 0


def cmd_withdraw(args) -> int:
    from ptce_pipeline.ingestion.corrections import withdraw

    return _correction(
        args, lambda s, **kw: withdraw(s, args.submission, reason=args.reason, by=_by(args, s))
    )


def cmd_reprocess(args) -> int:
    from ptce_pipeline.ingestion.corrections import reprocess

    if args.submission is None and not (args.pole and args.period) and not args.in_error:
        raise ConfigError("Indiquez un numéro de dépôt, --pole et --period, ou --in-error.")
    return _correction(
        args,
        lambda s: reprocess(
            s,
            sid=args.submission,
            pole=args.pole,
            period=args.period,
            in_error=args.in_error,
            reason=args.reason,
            by=_by(args, s),
        ),
    )


def cmd_campaign(args) -> int:
    from ptce_pipeline.ingestion.corrections import campaign

    if args.action == "prepare":
        from ptce_pipeline.ingestion.prepare import prepare_campaign

        settings = _settings(args)
        _require_home(settings)
        result = prepare_campaign(settings, args.period, args.deadline)
        for line in result.lines:
            out(line)
        return 1 if result.needs_attention else 0

    return _correction(
        args,
        lambda s: campaign(
            s,
            args.period,
            close=args.action == "close",
            reason=args.reason,
            by=_by(args, s),
            keep_unreviewed=getattr(args, "keep_unreviewed", False),
        ),
    )


def cmd_rebuild(args) -> int:
    from ptce_pipeline.ingestion.corrections import rebuild

    return _correction(args, lambda s: rebuild(s, Path(args.to).absolute() if args.to else None))


def cmd_serve(args) -> int:
    from ptce_pipeline.orchestration.serve import serve

    settings = _settings(args, settle=args.settle)
    _require_home(settings)
    beside = contextlib.nullcontext()
    if getattr(args, "portal", False):
        from ptce_pipeline.portal.server import PortalChild

        beside = PortalChild(
            settings, host=args.portal_host, port=args.portal_port, proxies="127.0.0.1"
        )
    with beside:
        return serve(
            settings,
            ingest_cron=args.ingest_cron,
            publish_cron=args.publish_cron,
            port=args.port,
            ingest_interval=args.ingest_interval,
        )
