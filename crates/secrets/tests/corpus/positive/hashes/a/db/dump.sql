-- MySQL dump 10.13
CREATE TABLE `users` (`id` int, `email` varchar(255), `password` varchar(255));
INSERT INTO `users` VALUES (1,'admin@example.com','$2y$10$Po936ymi86uFzFMu5suLm93MAOLxBjOQUDRyYyBe2VRsRQ9yOAH/b'),(2,'ops@example.com','$2b$10$pPOVzzzbMmkHMqugn18LJEXu4VkF7XG4abX1kmv3bxVC/5L3PcrzJ');
