FROM debian:12
RUN apt-get update
RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7
FROM alpine:3.20
RUN apk update
FROM rockylinux:9
RUN yum -y update
