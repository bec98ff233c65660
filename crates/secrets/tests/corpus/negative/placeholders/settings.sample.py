SECRET_KEY = "your-secret-key-here"
DATABASE_PASSWORD = "dummy"
