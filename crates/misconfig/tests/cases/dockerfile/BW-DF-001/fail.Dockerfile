FROM debian:12
RUN useradd -r app
USER app
FROM debian:12
COPY --from=0 /etc/passwd /etc/passwd
USER 0:0
