token: <TOKEN>
secret: REPLACE_ME
password: "*****"
