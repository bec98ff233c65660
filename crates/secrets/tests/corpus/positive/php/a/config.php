<?php
return [
    'db' => [
        'host' => 'localhost',
        'username' => 'shop',
        'password' => 'XnTTRxisamPu_4',
        'dbname' => 'shop',
    ],
];
