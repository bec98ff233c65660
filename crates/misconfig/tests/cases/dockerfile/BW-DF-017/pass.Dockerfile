FROM debian:12
COPY app.py /app/
ADD rootfs.tar.gz /
ARG DIST=https://example.com/tool
ADD $DIST /opt/tool
