"""No one-time codes, full phone numbers or search terms in the logs: the code does not log
them, a filter on every handler masks what slips through, the development server's request
lines and gunicorn's access log carry no query string."""

from __future__ import annotations

import io
import logging
import logging.config
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings

from callcenter.logfilter import PiiLogFilter
from tests.factories import TicketFactory
from tests.tickets.test_status_page import lookup, sent_code  # noqa: F401 (lookup is a fixture)

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def console_output():
    """What the console handler configured by LOGGING writes, for the duration. LOGGING is
    applied afresh (a Celery worker started by another test may have replaced the root
    logger's handlers) and the loggers it touches are put back afterwards."""
    touched = [logging.getLogger(), *map(logging.getLogger, settings.LOGGING["loggers"])]
    saved = [(lg, lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for lg in touched]
    logging.config.dictConfig(settings.LOGGING)
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        yield stream
    finally:
        for lg, handlers, filters, level, propagate in saved:
            lg.handlers[:], lg.filters[:] = handlers, filters
            lg.setLevel(level)
            lg.propagate = propagate


def test_the_status_page_code_and_the_number_are_not_logged(client, org, lookup, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    with console_output() as out:
        response = lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    assert response.status_code == 302
    code = sent_code()
    logged = "\n".join(r.getMessage() for r in caplog.records) + out.getvalue()
    assert "simulated SMS" in logged
    assert code not in logged
    assert "+821012345678" not in logged and "1012345678" not in logged


def test_every_handler_in_logging_masks_personal_data():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "pii" in handler.get("filters", []), name


def test_the_filter_masks_numbers_in_messages_and_tracebacks():
    log = logging.getLogger("tests.logging_pii")
    with console_output() as out:
        log.warning("sms from %s: 주민 %s", "+821098765432", "９００１０１－１２３４５６７")
        log.warning("card %s call %s at %s", "4539 1488 0343 6467", 271, "2026-12-07 16:11")
        try:
            raise ValueError("The 'To' number 010-9876-5432 is not reachable")
        except ValueError:
            log.exception("twilio refused")
    text = out.getvalue()
    assert "98765" not in text and "234567" not in text and "880343" not in text
    assert "+********5432" in text and "900101-1******" in text
    assert "4539 14** **** 6467" in text and "call 271 at 2026-12-07 16:11" in text
    assert "***-****-5432 is not reachable" in text and "ValueError" in text


def test_the_development_server_logs_no_query_string():
    with console_output() as out:
        logging.getLogger("django.server").warning(
            '"%s" %s %s', "GET /tickets/?q=%ED%99%8D%EA%B8%B8%EB%8F%99 HTTP/1.1", "404", "12"
        )
    assert '"GET /tickets/ HTTP/1.1" 404 12' in out.getvalue()
    assert "q=" not in out.getvalue()


def test_the_celery_worker_handlers_get_the_filter():
    from celery.signals import after_setup_logger

    log = logging.getLogger("tests.worker_root")
    log.addHandler(logging.StreamHandler(io.StringIO()))
    after_setup_logger.send(sender=None, logger=log, loglevel=logging.INFO, logfile=None)
    assert any(isinstance(f, PiiLogFilter) for f in log.handlers[0].filters)


def test_gunicorns_access_log_has_no_query_string_nor_referrer():
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from callcenter import gunicorn as conf

    cfg = Config()
    cfg.set("accesslog", conf.accesslog)
    cfg.set("access_log_format", conf.access_log_format)
    access = Logger(cfg)
    stream = io.StringIO()
    access.access_log.addHandler(logging.StreamHandler(stream))
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/tickets/?q=010-9876-5432",
        "PATH_INFO": "/tickets/",
        "QUERY_STRING": "q=010-9876-5432",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": "https://sangdam.example/tickets/customers/search/?q=9876",
        "HTTP_USER_AGENT": "pytest",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    access.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    line = stream.getvalue()
    assert '"GET /tickets/ HTTP/1.1" 200 512 12ms' in line
    assert "9876" not in line and "q=" not in line
    for path in ("Dockerfile", "docker-compose.yml"):
        text = (ROOT / path).read_text()
        assert "python:callcenter.gunicorn" in text and "access-logformat" not in text, path
