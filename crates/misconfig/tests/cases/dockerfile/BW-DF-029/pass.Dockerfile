FROM debian:12
RUN chmod 755 /app && chmod u+w,g+r /etc/app.conf && chmod 1755 /data
COPY --chmod=644 app.conf /etc/
