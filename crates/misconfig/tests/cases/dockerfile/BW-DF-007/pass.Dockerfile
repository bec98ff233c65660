FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7 \
 && rm -rf /var/lib/apt/lists/*
RUN --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update && apt-get install -y --no-install-recommends git=1:2.39.5-0+deb12u1
RUN set -eux; apt-get update; apt-get install -y --no-install-recommends wget=1.21.3-1+b2; apt-get dist-clean
