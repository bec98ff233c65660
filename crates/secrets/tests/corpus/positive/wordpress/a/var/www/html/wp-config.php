<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'OAqEkHFAsrPp+9' );
define( 'DB_HOST', 'localhost' );

define( 'AUTH_KEY', 'r+%5Md?U228ttK94#OUZ|YKu`j(7u/nZu1I&Ae3|gv?7BQ%9W*XJ!JEUf.<aYiWk' );
define( 'SECURE_AUTH_KEY', 'oC ZwjR}}326T`G<)2&45{;PDW@S+npA Nb8ul1(oLve+y6c|AaZ{~b44j_*l)p]' );
define( 'LOGGED_IN_KEY', 'v|<;aR](|,Tp`bSe=|& y%?;yKDTQxDy`Ev>SA?C;]K<W4q6nD/}Pd{7Meg-s[-p' );
define( 'NONCE_KEY', 'R`|hg{TxPepYDY6)RHQ&L6}GR@A==rG;3bEq!Hqn/|xt9+LGAv0xPHI4+^1,#jMR' );
define( 'AUTH_SALT', 'U5eqH4@Dmjz9=}mI=Q<8K{a(uy((N5#VcoF[<0,T>G=w,DCyX}jwIaa>kM1SHqC.' );
define( 'SECURE_AUTH_SALT', ',1AWB/6<su jC >r-E4(IcCXk-Me}T7U{c8wu#*|K3K6-N0j0i.bQsPZvluF~iO|' );
define( 'LOGGED_IN_SALT', 'l16/4{~o^%C^(D-}}Z^!jFdB9~h*dMyaYB{qQQ:~qm&5<HMtS]?B2[5%lFMD^zl-' );
define( 'NONCE_SALT', 'M?tk0h=x(YjY/s52TxuNY+h/Iim>fHuYQ<FhLz>_G:(HZi7-*0`=n,(N;{?b>K,^' );

$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
