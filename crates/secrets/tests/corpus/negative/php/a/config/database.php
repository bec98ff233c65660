<?php
return [
    'mysql' => [
        'host' => env('DB_HOST', '127.0.0.1'),
        'username' => env('DB_USERNAME', 'forge'),
        'password' => env('DB_PASSWORD', ''),
    ],
];
