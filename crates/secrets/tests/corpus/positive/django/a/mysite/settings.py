from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = 'zsk*e73k!gzk0r)6nc1(dk%=)3nv64y8yr5rpxc!#azeyfho_z'

DEBUG = False
