FROM debian:12
RUN chmod -R 777 /app
RUN chmod o+w /etc/app.conf
COPY --chmod=666 app.conf /etc/
