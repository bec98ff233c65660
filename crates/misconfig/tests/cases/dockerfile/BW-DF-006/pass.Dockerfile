FROM debian:12
RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7
RUN apt-get -o APT::Install-Recommends=false install -y wget=1.21.3-1+b2
