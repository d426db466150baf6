# Slim image of the hub: `docker run -v plantpulse:/config -p 8130:8130 plantpulse`.
# An empty /config is seeded with the bundled demo plant on first start.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PLANTPULSE_CONFIG=/config

COPY . /tmp/plantpulse-src
RUN pip install /tmp/plantpulse-src && rm -rf /tmp/plantpulse-src

VOLUME /config
EXPOSE 8130
CMD ["plantpulse", "run", "--config", "/config"]
