from .base import *  # noqa

SECRET_KEY = "5l74e5v1SYS0BB7V9WDwQq5MHBGCCRL4uo6yOwIgh3Y27nT49V"
ALLOWED_HOSTS = ["example.com"]
