FROM python:3.12-slim
RUN pip install --no-cache-dir -r requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3
FROM python:3.12-slim
ENV PIP_NO_CACHE_DIR=1
RUN pip3 install requests==2.32.3
