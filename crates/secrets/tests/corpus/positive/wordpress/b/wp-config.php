<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'password_here' );
define( 'DB_HOST', 'localhost' );

define( 'AUTH_KEY', '`]caC m0/?v/EMI<L~`=V<V<uO Ur}por!Y?y4+r,Kaik67aB~vR?d[:l?@8,}U<' );
define( 'SECURE_AUTH_KEY', 'z?)zX]]h09nuL|:>|5`=fYh`2[DUvU`?%E5W+K8DpaLgVNEESg34V;8L<KdLu>t:' );
define( 'LOGGED_IN_KEY', 'w.mlpzW-H9MJv&cvCx+l<zqmz<;Xf(KP7l</`aWoULbSwh7x,nJDarNXlumaU~4|' );
define( 'NONCE_KEY', '1-jjQ) lb%-N~1&w~Bof#t;+@FFdG+{=hzQ:~p(>8/kM!n9}T4<P%q>vT:oU &<5' );
define( 'AUTH_SALT', 'u(d_{YWP4iel2YkmH|QxU@;.=d-p9/ftJoL 4*BFtcU@~A1s,,C0r<6ILg]7,/L+' );
define( 'SECURE_AUTH_SALT', '3FGVSRvToyw9@}Qj6waF5FrB}22HO17owF/Q:rE*}5Aw6}~q T86w3wfH>(:K?8H' );
define( 'LOGGED_IN_SALT', 'YJu/Je#/o?TzrQZe%6leHc/J*Zm#iN+dmR,4%:8.ut]:=X?Un^%dCk~:t:9Un7uB' );
define( 'NONCE_SALT', 'uz(4)@Xmg#~voFWy]72uD@nx|zSQ;^f51r304)YS1%2k(#pk5Ie62zPgYttSmBi7' );

$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
