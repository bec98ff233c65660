from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = '+nf^0n1a(38+tib-%q2_!ka=)ih8*cpbp%=p+ecdudih_bxpo3'

DEBUG = False
