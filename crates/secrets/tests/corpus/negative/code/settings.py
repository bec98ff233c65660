import os
SECRET_KEY = os.environ["SECRET_KEY"]
DATABASES = {"default": {"PASSWORD": os.getenv("DB_PASSWORD")}}
