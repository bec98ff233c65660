FROM debian:12
ENV DB_PASSWORD_FILE=/run/secrets/db_password
ENV API_TOKEN=$API_TOKEN
RUN --mount=type=secret,id=token cat /run/secrets/token > /dev/null
