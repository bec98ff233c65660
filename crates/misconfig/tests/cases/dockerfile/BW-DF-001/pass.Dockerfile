FROM debian:12
RUN useradd -r app
USER root
RUN apt-get update
USER app
CMD ["/bin/app"]
FROM debian:12 AS gosu
ENTRYPOINT ["gosu", "app", "tini", "--", "/bin/app"]
