# syntax=docker/dockerfile:1
# The dialin bridge in a small static image: README.md ("Deployment:
# Docker") says how to run it; `make check-deploy` checks this file and
# builds it where a container runtime with the base images is present.
#
#   docker build -t dialin .
#   docker run -d --name dialin -v dialin-data:/var/lib/dialin \
#     -v "$PWD/dialin.yaml:/etc/dialin/dialin.yaml:ro" \
#     -p 5060:5060/udp -p 5060:5060/tcp -p 8080:8080 -p 10000-10999:10000-10999/udp dialin

# Build: a static binary (CGO_ENABLED=0: the SQLite driver, modernc.org/sqlite,
# is pure Go). A vendor/ folder in the context is used as it is, so the build
# needs no network then.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
ARG GOPROXY
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN go build -buildvcs=auto -ldflags="-s -w" -o /out/dialin ./cmd/dialin \
 && mkdir -p /out/data

# Run: distroless static (CA certificates, time zones, a nonroot user, no
# shell), the binary and its configuration, as user 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dialin /usr/local/bin/dialin
COPY deploy/docker/dialin.yaml /etc/dialin/dialin.yaml
# The data folder (database, lock file, PIN secret and admin token unless
# given otherwise) is a volume owned by the nonroot user.
COPY --from=build --chown=65532:65532 /out/data /var/lib/dialin
USER 65532:65532
VOLUME ["/var/lib/dialin"]
EXPOSE 5060/udp 5060/tcp 8080/tcp 10000-10999/udp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dialin"]
CMD ["serve", "--config", "/etc/dialin/dialin.yaml"]
