# secretsync operator and CLI image. Build from the repo root:
#   docker build -t ghcr.io/secretsync/secretsync:0.1.0 .
# (ghcr.io/secretsync is a placeholder; see deploy/README.md.)
# The base image is pinned by digest, so a rebuild cannot pick up a different image under the same
# tag. Refresh it deliberately: docker buildx imagetools inspect python:3.11-slim-bookworm, then
# replace the digest below (tests/security/test_supply_chain.py checks that one is there).
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# No .pyc files (the root filesystem is read-only in the pod anyway), unbuffered logs.
# HOME=/tmp: the one writable place in the pod (an emptyDir), for any library's caches.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp

WORKDIR /src
# Only what the package build needs (pyproject's readme is README.md); .dockerignore keeps
# the rest, including .venv and .git, out of the context.
COPY pyproject.toml constraints.txt README.md ./
COPY secretsync ./secretsync
# Every provider (Vault, AWS, GCP), pinned by the same constraints as CI.
RUN pip install --no-cache-dir -c constraints.txt '.[all]' \
    && rm -rf /src

# The same numeric user the Deployment's securityContext asks for (runAsNonRoot needs a
# numeric USER to verify).
RUN groupadd --gid 65532 secretsync \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin secretsync
USER 65532:65532
WORKDIR /tmp

EXPOSE 8080 8081
ENTRYPOINT ["secretsync"]
CMD ["operator"]
