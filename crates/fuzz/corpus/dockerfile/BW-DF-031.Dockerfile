FROM debian:12
RUN apt install -y --no-install-recommends curl=7.88.1-10+deb12u7
