<?php
return [
    'db' => [
        'host' => 'localhost',
        'username' => 'shop',
        'password' => 'Pq2iJRIt9KcI&5',
        'dbname' => 'shop',
    ],
];
