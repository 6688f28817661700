// Package deploytest checks the container deployment files at the root of
// the repository: the multi-stage Dockerfile, docker-compose.yml (loaded
// and validated with compose-go, the library Docker Compose itself uses,
// since tests cannot count on a Docker engine) and .dockerignore. It has
// no code of its own, only tests.
package deploytest
