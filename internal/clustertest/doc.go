// Package clustertest holds the end-to-end tests of a cluster: origins and
// edges coordinated through a real Redis, HLS served through a real nginx
// with the repository's deploy/nginx configuration. It has no code of its
// own.
package clustertest
