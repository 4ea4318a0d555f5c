FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY broadcaster ./broadcaster
COPY workers ./workers
COPY templates ./templates
RUN pip install --no-cache-dir -e .
ENV BROADCASTER_TEMPLATES_DIR=/app/templates
ENTRYPOINT ["broadcaster"]
CMD ["--help"]
