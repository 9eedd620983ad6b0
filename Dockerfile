# Station NVR container image (the demo config runs as is; mount your own config.yaml and data folder).
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY nvr nvr
COPY ingest ingest
COPY detect detect
COPY storage storage
COPY api api
RUN pip install --no-cache-dir .
COPY config.yaml /etc/nvr/config.yaml
ENV NVR_CONFIG=/etc/nvr/config.yaml
EXPOSE 8080
CMD ["nvr", "run"]
