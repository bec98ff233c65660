FROM debian:12
RUN apt-get update && apt-get -y upgrade
RUN apt-get dist-upgrade -y
