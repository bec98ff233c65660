ARG VERSION=12
FROM debian:${VERSION} AS base
FROM base
FROM scratch
FROM registry.example.com:5000/team/app@sha256:2d2b5b8e4a0b7f5e1c6a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70
