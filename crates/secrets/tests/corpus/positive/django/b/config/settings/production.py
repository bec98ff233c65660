from .base import *  # noqa

SECRET_KEY = "iTW03kVmIFKcsYok6RDEEUhtSFobZ4oSCeSEaCTIVyZsas60VS"
ALLOWED_HOSTS = ["example.com"]
