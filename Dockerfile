# syntax=docker/dockerfile:1

# The build stage compiles a static binary; nothing of it but the binary
# reaches the image.
FROM golang:1.26 AS build
WORKDIR /src

# Modules first, so that a change of source alone reuses this layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -o /totpvault ./cmd/server

# The runtime image holds the binary, CA certificates and time zone data, and
# runs as the unprivileged user nonroot (uid and gid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /totpvault /totpvault

# Inside a container the service must listen on every interface; the default
# of the binary, 127.0.0.1, would be unreachable from outside.
ENV TOTPVAULT_LISTEN=0.0.0.0:8080
EXPOSE 8080

# Arguments after the image name replace CMD, so the other subcommands run
# as `docker run IMAGE keygen` or `docker run IMAGE token create ...`.
ENTRYPOINT ["/totpvault"]
CMD ["serve"]
