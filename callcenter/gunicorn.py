"""gunicorn settings for the production image and `docker compose` (`gunicorn -c
python:callcenter.gunicorn`; the command line adds bind, workers and timeout).

The access log names the path without its query string (%(U)s, not %(r)s or %(q)s) and
without the referrer (%(f)s is the previous page's address, query string included):
searches carry names and phone numbers (DOMAIN.md, "Personal data")."""

accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
