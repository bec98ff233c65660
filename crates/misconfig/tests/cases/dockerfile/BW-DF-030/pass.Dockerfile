FROM alpine:3.20
RUN curl -fsSL https://example.com/x -o /x
RUN wget https://example.com/y
ENV NODE_TLS_REJECT_UNAUTHORIZED=1
