# One image for every service of docker-compose.yml: the command says which (serve, serve --public,
# worker, beat, init). Each service's healthcheck is in docker-compose.yml, since each checks its own.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY broadcaster ./broadcaster
COPY workers ./workers
COPY templates ./templates
RUN pip install --no-cache-dir -e .
ENV BROADCASTER_TEMPLATES_DIR=/app/templates PYTHONUNBUFFERED=1
# `serve` (the full app) and `serve --public` (what customers read)
EXPOSE 8080 8081
ENTRYPOINT ["broadcaster"]
CMD ["--help"]
