FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7
FROM alpine:3.20
RUN apk update && apk add --no-cache curl=8.9.1-r2
FROM rockylinux:9
RUN yum -y update && yum install -y httpd-2.4.57 && yum clean all
RUN apt-get update --yes && dpkg -l | grep ^ii | cut -d' ' -f3 | xargs -r apt-get install --yes --no-install-recommends --reinstall man-db=2.11.2-2 && rm -rf /var/lib/apt/lists/*
