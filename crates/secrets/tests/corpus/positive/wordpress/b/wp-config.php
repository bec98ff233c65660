<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'password_here' );
define( 'DB_HOST', 'localhost' );

define( 'AUTH_KEY', '*Uk/i6}=r#ry|6h4_6;^xY|l&-fy:mA}}x;9nV?ACGpD|=!|K!nQe>HD-?4D?C{l' );
define( 'SECURE_AUTH_KEY', '!AmtbN1%BA^H##.#NyYWt^y@26S,Zdkxv}@qJ6gHWrjJs:gM]NJdWY,7>fN+9~Ho' );
define( 'LOGGED_IN_KEY', 'b.+h+xf_B@O3#,v=VSOe+I>f(:zT<H2*t_u6[+LpJggg~N537_WeJ2YsR{q@D,Oy' );
define( 'NONCE_KEY', '^[8l`tXD%|JUXUfg7T~,29CAD&UuR*L(U23J~Dq|alW`qhn~DW*.zw_7ihzSP{=W' );
define( 'AUTH_SALT', 'pdy/}us!E`]44-b>L{FbhYzpmk-B TC.9l(Ajg3R#ppz9ZQeTId oLJom7I+pr58' );
define( 'SECURE_AUTH_SALT', '|~kgAE<_ctfsTG+*Tw<}&Z@4^sh^7R?&pp6F4[#Z6)lDGm`VAM,Z8,>=xHJE3@:[' );
define( 'LOGGED_IN_SALT', 'W48MvW2lvjGv&.1._(@jmFVq.YjFu9[XavgvKG|_Vby/BC7v2<%|f!7PBZy|a;0t' );
define( 'NONCE_SALT', 'slX*]9 `!A>B,/Ln?zuT6)Y;|2?Gf[=&U}xzR7J#t(rtAw= 56oJ7j~~2+{Um9mi' );

$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
