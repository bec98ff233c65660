<?php
$db['default']['hostname'] = 'localhost';
$db['default']['username'] = 'ci';
$db['default']['password'] = '6Eb0ybdMmhXi%5';
$db['default']['database'] = 'ci';
