-- MySQL dump 10.13
CREATE TABLE `users` (`id` int, `email` varchar(255), `password` varchar(255));
INSERT INTO `users` VALUES (1,'admin@example.com','$2y$10$xO0rPUpm0P5bbAeFw5bYpI5TrQ1bh9Tzz5MPlB0.T1utsfqScR0TL'),(2,'ops@example.com','$2b$10$e0/jHmubi0EER5jNJMFPb8J378gTtSCJIFrpFAj4.Q2fhUH3e3k9S');
