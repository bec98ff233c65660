FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc=4:12.2.0-3
FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7
