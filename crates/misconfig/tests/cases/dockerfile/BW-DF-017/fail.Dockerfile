FROM debian:12
ADD app.py /app/
ADD --chown=1000 config /etc/app/
