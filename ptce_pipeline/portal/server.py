"""`ptce portal`: the portal under uvicorn, on 127.0.0.1:8000 by default, behind an HTTPS
reverse proxy in production (docs/exploitation.md: Caddy and nginx). uvicorn's access log is
off (it would record links' tokens); ours (`app.AccessLog`) never does."""

from __future__ import annotations

import logging
import sys

from ptce_pipeline.config import Settings
from ptce_pipeline.portal.app import create_app


def run_portal(settings: Settings, *, host: str, port: int, proxies: str = "127.0.0.1") -> None:
    import uvicorn

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s portail %(message)s"))
    logger = logging.getLogger("ptce.portail")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=proxies,
        access_log=False,
        server_header=False,
        date_header=True,
        log_level="warning",
        timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=16 * 1024,
    )
    uvicorn.Server(config).run()
