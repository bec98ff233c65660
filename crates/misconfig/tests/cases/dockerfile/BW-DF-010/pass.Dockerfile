FROM alpine:3.20
RUN apk add --no-cache curl=8.9.1-r2
RUN --mount=type=cache,target=/var/cache/apk apk add bash=5.2.26-r0
RUN apk add --no-cache --virtual .build-deps gcc=13.2.1_git20240309-r0 \
 && apk add --no-network --virtual .rundeps so:libevent-2.1.so.7 \
 && apk del --no-network .build-deps
