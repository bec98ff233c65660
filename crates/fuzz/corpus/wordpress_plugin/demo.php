<?php
/*
 * Plugin Name: Demo
 * Version: 1.2.3
 */
