FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7
RUN apt-get -qq install nginx=1.22.1-9
RUN apt-get install --yes ca-certificates=20230311
