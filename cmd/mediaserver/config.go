package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mediaserver/mediaserver/internal/server"
)

// envPrefix starts the name of every environment variable the server reads.
const envPrefix = "MEDIASERVER_"

// loadConfig builds the effective configuration: built-in defaults, then the
// YAML file named by -config (or MEDIASERVER_CONFIG), then MEDIASERVER_*
// environment variables, then command-line flags, with later sources
// winning; the defaults of what these left unset (or set to zero) are filled
// in last.
func loadConfig(args []string, environ []string, stderr io.Writer) (server.Config, error) {
	cfg := server.DefaultConfig()
	defaults := cfg.WithDefaults()

	fs := flag.NewFlagSet("mediaserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration file (env "+envPrefix+"CONFIG)")
	rtmpAddr := fs.String("rtmp-addr", "", "RTMP listen address (default "+defaults.RTMP.Addr+")")
	httpAddr := fs.String("http-addr", "", "HTTP listen address for media, API and UI (default "+defaults.HTTP.Addr+")")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error (default "+defaults.Log.Level+")")
	logFormat := fs.String("log-format", "", "log format: text or json (default "+defaults.Log.Format+")")
	if err := fs.Parse(args); err != nil {
		return server.Config{}, err
	}
	if fs.NArg() > 0 {
		return server.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	env := envMap(environ)
	file := *configFile
	if file == "" {
		file = env[envPrefix+"CONFIG"]
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return server.Config{}, fmt.Errorf("config file: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return server.Config{}, fmt.Errorf("config file %s: %w", file, err)
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), envPrefix, env); err != nil {
		return server.Config{}, err
	}
	for flagValue, target := range map[*string]*string{
		rtmpAddr: &cfg.RTMP.Addr, httpAddr: &cfg.HTTP.Addr,
		logLevel: &cfg.Log.Level, logFormat: &cfg.Log.Format,
	} {
		if *flagValue != "" {
			*target = *flagValue
		}
	}
	return cfg.WithDefaults(), nil
}

// envMap turns KEY=VALUE pairs into a map.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// applyEnv walks a config struct and sets every field whose environment
// variable is present. The variable name is the prefix followed by the yaml
// keys of the path, upper-cased and joined by underscores:
// rtmp.addr → MEDIASERVER_RTMP_ADDR, hls.segment_duration →
// MEDIASERVER_HLS_SEGMENT_DURATION.
func applyEnv(v reflect.Value, prefix string, env map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		field := t.Field(i)
		if !field.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(field.Tag.Get("yaml"), ",")
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(field.Name)
		}
		name := prefix + strings.ToUpper(key)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Duration(0)) {
			if err := applyEnv(fv, name+"_", env); err != nil {
				return err
			}
			continue
		}
		raw, ok := env[name]
		if !ok {
			continue
		}
		if err := setFromString(fv, raw); err != nil {
			return fmt.Errorf("environment %s=%q: %w", name, raw, err)
		}
	}
	return nil
}

// setFromString parses raw into the field according to its kind.
func setFromString(fv reflect.Value, raw string) error {
	if fv.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, fv.Type().Bits())
		if err != nil {
			return err
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, fv.Type().Bits())
		if err != nil {
			return err
		}
		fv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(raw, fv.Type().Bits())
		if err != nil {
			return err
		}
		fv.SetFloat(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", fv.Type())
		}
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		fv.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}
