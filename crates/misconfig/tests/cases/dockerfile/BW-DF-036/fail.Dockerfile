FROM alpine:3.20
RUN adduser -D app && echo 'app:s3cret' | chpasswd
RUN echo "root:$(head -c 24 /dev/urandom | base64)" | /usr/sbin/chpasswd -c SHA512
