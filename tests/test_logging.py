"""Every log handler redacts secrets: the app's, Django's request lines, the worker's."""

import logging

import pytest

SECRET_LINE = (
    '"GET /connections/oauth/callback/?code=1000.abcdef0123456789&state=xyz HTTP/1.1" 302 0'
)


@pytest.mark.parametrize("logger_name", ["django.server", "django.request", "crmadmin.zoho", ""])
def test_every_handler_a_record_reaches_redacts_tokens(logger_name):
    logger = logging.getLogger(logger_name)
    handlers = []
    while logger is not None:
        handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    assert handlers, f"{logger_name!r} reaches no handler"
    for handler in handlers:
        record = logging.LogRecord(logger_name, logging.INFO, __file__, 1, SECRET_LINE, (), None)
        assert handler.filter(record)
        line = handler.format(record)
        assert "1000.abcdef0123456789" not in line, (handler, line)
        assert "code=[REDACTED]" in line


def test_an_authorization_header_in_a_log_line_is_redacted():
    record = logging.LogRecord(
        "crmadmin",
        logging.INFO,
        __file__,
        1,
        "sent Authorization: Zoho-oauthtoken %s",
        ("1000.x9y8z7",),
        None,
    )
    (handler,) = [
        h for h in logging.getLogger().handlers if not type(h).__module__.startswith("_pytest")
    ]
    handler.filter(record)
    assert "1000.x9y8z7" not in handler.format(record)
