# syntax=docker/dockerfile:1
#
# mediaserver image, built in stages:
#   web      the players the UI embeds (hls.js, mpegts.js), from npm as package-lock.json pins them
#   build    the Go binary, with the UI (and those players) embedded
#   demo     ffmpeg, for the test-pattern publisher of docker-compose.yml's demo profile
#   runtime  the small image that runs the server (the default target)
#
#   docker build -t mediaserver .
#   docker run -p 1935:1935 -p 8080:8080 -e MEDIASERVER_API_TOKEN=… mediaserver

ARG GO_VERSION=1.26
ARG NODE_VERSION=22
ARG ALPINE_VERSION=3.22

FROM node:${NODE_VERSION}-alpine AS web
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
RUN mkdir -p vendor/hls.js vendor/mpegts.js \
 && cp node_modules/hls.js/dist/hls.min.js vendor/hls.js/hls.min.js \
 && cp node_modules/hls.js/LICENSE vendor/hls.js/LICENSE.txt \
 && cp node_modules/mpegts.js/dist/mpegts.js vendor/mpegts.js/mpegts.js \
 && cp node_modules/mpegts.js/dist/mpegts.js.LICENSE.txt vendor/mpegts.js/mpegts.js.LICENSE.txt \
 && cp node_modules/mpegts.js/LICENSE vendor/mpegts.js/LICENSE.txt

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/vendor/ web/static/vendor/
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/mediaserver ./cmd/mediaserver

FROM alpine:${ALPINE_VERSION} AS demo
RUN apk add --no-cache ffmpeg
USER nobody
ENTRYPOINT ["ffmpeg"]

FROM alpine:${ALPINE_VERSION} AS runtime
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -S mediaserver && adduser -S -G mediaserver -H -h /var/lib/mediaserver mediaserver \
 && mkdir -p /var/lib/mediaserver/hls /var/lib/mediaserver/data && chown -R mediaserver:mediaserver /var/lib/mediaserver \
 && chmod 0750 /var/lib/mediaserver/data
COPY --from=build /out/mediaserver /usr/local/bin/mediaserver
USER mediaserver
WORKDIR /var/lib/mediaserver
EXPOSE 1935 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/mediaserver"]
