CREATE TABLE users (id int, password_hash varchar(60));
INSERT INTO users VALUES (1, NULL);
