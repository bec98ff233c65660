FROM alpine:3.20
RUN apk add --no-cache curl=8.9.1-r2
RUN --mount=type=cache,target=/var/cache/apk apk add bash=5.2.26-r0
