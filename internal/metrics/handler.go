package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the /metrics handler: c, the Go runtime and the process
// metrics, from a private registry, in the Prometheus text format. A nil
// log discards.
func Handler(c *Collector, log *slog.Logger) (http.Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	for _, col := range []prometheus.Collector{
		c,
		// The live heap after the last collection, besides the defaults:
		// what memory the server needs, apart from the collector's headroom.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{log.With("component", "metrics")},
		ErrorHandling: promhttp.ContinueOnError,
	}), nil
}

// errorLog adapts slog to promhttp's logger.
type errorLog struct{ log *slog.Logger }

// Println implements promhttp.Logger.
func (l errorLog) Println(v ...any) { l.log.Error("metrics scrape", "error", fmt.Sprint(v...)) }

// ErrDegraded is wrapped by a HealthCheck error that leaves the server
// serving: a part it depends on for new work is down.
var ErrDegraded = errors.New("degraded")

// HealthCheck reports why the server is not healthy; nil means healthy.
type HealthCheck func() error

// HealthHandler returns the /healthz handler: 200 {"status":"ok"} while
// check (if any) passes; 200 {"status":"degraded","error":"…"} when its
// error wraps ErrDegraded (the server still serves; a load balancer keeps
// it); 503 {"status":"unavailable","error":"…"} otherwise.
func HealthHandler(check HealthCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		status, doc := http.StatusOK, map[string]string{"status": "ok"}
		if check != nil {
			if err := check(); errors.Is(err, ErrDegraded) {
				doc = map[string]string{"status": "degraded", "error": err.Error()}
			} else if err != nil {
				status, doc = http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()}
			}
		}
		body, _ := json.Marshal(doc)
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		if r.Method == http.MethodGet {
			_, _ = w.Write(append(body, '\n'))
		}
	})
}
