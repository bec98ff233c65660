<?php
$db['default']['hostname'] = 'localhost';
$db['default']['username'] = 'ci';
$db['default']['password'] = '2D96gt7DGEj2-9';
$db['default']['database'] = 'ci';
