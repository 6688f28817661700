package metrics

// Config configures who may read /metrics and what it shows.
type Config struct {
	// Public serves /metrics to anyone. When false (the default), /metrics
	// is guarded like the API: the bearer token when api.token is set,
	// otherwise loopback clients addressing the server by a local name.
	Public bool `yaml:"public"`
	// StreamLabels reports the per-stream series
	// (mediaserver_stream_*{app,name}), which carry every live stream's
	// name. Default true (DefaultConfig); false leaves them out, and only
	// totals are reported.
	StreamLabels bool `yaml:"stream_labels"`
}

// DefaultConfig returns the configuration before settings are read:
// per-stream series on, /metrics guarded.
func DefaultConfig() Config {
	return Config{StreamLabels: true}
}

// WithDefaults returns c: every field's default is its zero value or set
// by DefaultConfig.
func (c Config) WithDefaults() Config { return c }

// Validate reports nothing: every combination is usable.
func (c Config) Validate() error { return nil }
