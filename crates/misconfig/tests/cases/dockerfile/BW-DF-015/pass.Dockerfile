FROM python:3.12-slim
RUN pip install --no-cache-dir -r requirements.txt "flask>=3,<4" ./pkg git+https://github.com/psf/requests@v2.32.3
RUN pip install --no-cache-dir --upgrade pip
