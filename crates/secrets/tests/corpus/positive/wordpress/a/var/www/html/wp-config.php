<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'pjbxWOSnVAjJ?3' );
define( 'DB_HOST', 'localhost' );

define( 'AUTH_KEY', '0r<6ILg]7,/L+3FGVSRvToyw9@}Qj6waF5FrB}22HO17owF/Q:rE*}5Aw6}~q T8' );
define( 'SECURE_AUTH_KEY', '6w3wfH>(:K?8HYJu/Je#/o?TzrQZe%6leHc/J*Zm#iN+dmR,4%:8.ut]:=X?Un^%' );
define( 'LOGGED_IN_KEY', 'dCk~:t:9Un7uBuz(4)@Xmg#~voFWy]72uD@nx|zSQ;^f51r304)YS1%2k(#pk5Ie' );
define( 'NONCE_KEY', '62zPgYttSmBi7B {UrKbz]P}K7nN7%8tW;;{a.K&sC%XNT*5f5DN>0;7p?[.M3h>' );
define( 'AUTH_SALT', '5Y2i_!eE.DDW>w*)kPk(0wQNkqYVf ~OHnJP~]v2P>T(`+VCSCq5oLIY)%T3:1qM' );
define( 'SECURE_AUTH_SALT', '7O.)8O8jz[0!;&!D;&8IkwU66U),swZpvjT8E[jLilBrqYr?29i3s=@a324X)E7t' );
define( 'LOGGED_IN_SALT', '_|qoZ:V<:gRBm[_SM%VgZvfzt}CkJls> 6,G!o`^_FG8*gNX!(M=eZn%!BH13W_h' );
define( 'NONCE_SALT', 'dSDOuEs?20m5gP9~Pwxh<%MKoO#!!8y[Ds<_Q_6<M(6Q#qT@4u)HRB0/l&fi,!:Y' );

$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
