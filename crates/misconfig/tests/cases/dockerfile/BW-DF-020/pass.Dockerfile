FROM debian:12
USER root
RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7
USER app
