FROM alpine:3.20
RUN curl -k https://example.com/x -o /x
RUN wget --no-check-certificate https://example.com/y
RUN apk add --no-cache --allow-untrusted /tmp/x.apk
RUN pip install --no-cache-dir --trusted-host pypi.example.com x==1
ENV NODE_TLS_REJECT_UNAUTHORIZED=0
RUN yum install -y --nogpgcheck x-1.0 && yum clean all
