# Station NVR container image: runs on its own with the demo cameras (config.docker.yaml); mount your own
# config.yaml over /etc/nvr/config.yaml and keep /var/lib/nvr on a volume.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY nvr nvr
COPY ingest ingest
COPY detect detect
COPY storage storage
COPY api api
RUN pip install --no-cache-dir --constraint constraints.txt . \
    && useradd --system --home-dir /var/lib/nvr --shell /usr/sbin/nologin nvr \
    && mkdir -p /var/lib/nvr && chown nvr:nvr /var/lib/nvr
COPY config.docker.yaml /etc/nvr/config.yaml
ENV NVR_CONFIG=/etc/nvr/config.yaml PYTHONUNBUFFERED=1
USER nvr
VOLUME ["/var/lib/nvr"]
EXPOSE 8080
# /api/health answers without a login and without touching the database
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/health', timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["nvr", "run"]
