FROM alpine:3.20
RUN adduser -D app && passwd -l app
# chpasswd is only mentioned here, not run
RUN echo "see chpasswd(8)" > /etc/motd
USER app
