FROM debian:12
COPY package.json package-lock.json /app
