FROM debian:12
ADD https://example.com/tool.tar.gz /opt/
ARG DIST=https://example.com/app.tar.gz
ADD ${DIST} /opt/
