package deploytest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/mediaserver/mediaserver/internal/server"
)

// repoRoot is the repository root, relative to this package.
var repoRoot = filepath.Join("..", "..")

// testToken is the API token given to the compose file.
const testToken = "compose-test-token"

// Names the compose file and the Dockerfile agree on.
const (
	serverService = "mediaserver"
	demoService   = "demo-publisher"
	demoProfile   = "demo"
	hlsVolume     = "hls"
	hlsDir        = "/var/lib/mediaserver/hls"
	envPrefix     = "MEDIASERVER_"
	// configEnv names the configuration file; it is no configuration key.
	configEnv = envPrefix + "CONFIG"
	// exampleConfig is the configuration file the compose file mounts,
	// relative to the repository root.
	exampleConfig = "deploy/mediaserver.yml"
)

// loadCompose loads docker-compose.yml as docker compose would, with only
// env as the environment (the machine's own is ignored) and the given
// profiles active.
func loadCompose(t *testing.T, env []string, profiles ...string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithConsistency(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return opts.LoadProject(ctx)
}

// mustLoad loads the compose file with the test token or fails.
func mustLoad(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	p, err := loadCompose(t, []string{"MEDIASERVER_API_TOKEN=" + testToken}, profiles...)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeRequiresAPIToken(t *testing.T) {
	_, err := loadCompose(t, nil)
	if err == nil {
		t.Fatal("loaded without MEDIASERVER_API_TOKEN: the dashboard would be unusable behind Docker's port mapping")
	}
	if !strings.Contains(err.Error(), "MEDIASERVER_API_TOKEN") {
		t.Errorf("error does not say what to set: %v", err)
	}
}

func TestComposeServerService(t *testing.T) {
	p := mustLoad(t)
	if got := p.ServiceNames(); !slices.Equal(got, []string{serverService}) {
		t.Fatalf("services without profiles: %q, want only %q", got, serverService)
	}
	if got := p.DisabledServiceNames(); !slices.Contains(got, demoService) {
		t.Errorf("disabled services %q lack %q (demo profile)", got, demoService)
	}
	s := p.Services[serverService]

	if s.Build == nil || s.Build.Target != "runtime" {
		t.Errorf("build %+v: want the Dockerfile's runtime stage", s.Build)
	} else if root, _ := filepath.Abs(repoRoot); s.Build.Context != root {
		t.Errorf("build context %q, want the repository root %q", s.Build.Context, root)
	}
	if s.Build != nil && !slices.Contains(dockerfileStageNames(t), s.Build.Target) {
		t.Errorf("build target %q is not a Dockerfile stage", s.Build.Target)
	}

	ports := map[uint32]string{}
	for _, port := range s.Ports {
		if port.Protocol != "tcp" {
			t.Errorf("port %d: protocol %q", port.Target, port.Protocol)
		}
		ports[port.Target] = port.Published
	}
	if want := map[uint32]string{1935: "1935", 8080: "8080"}; !reflect.DeepEqual(ports, want) {
		t.Errorf("ports %v, want %v", ports, want)
	}

	env := environment(s)
	for k, want := range map[string]string{
		"MEDIASERVER_API_TOKEN":   testToken,
		"MEDIASERVER_HLS_STORAGE": "disk",
		"MEDIASERVER_HLS_DIR":     hlsDir,
	} {
		if env[k] != want {
			t.Errorf("environment %s = %q, want %q", k, env[k], want)
		}
	}
	checkEnvironmentNamesConfig(t, env)

	var mounted bool
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source == hlsVolume && v.Target == hlsDir && !v.ReadOnly {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("volumes %+v: want the named volume %q on %s", s.Volumes, hlsVolume, hlsDir)
	}
	if _, ok := p.Volumes[hlsVolume]; !ok {
		t.Errorf("top-level volumes %q lack %q", p.VolumeNames(), hlsVolume)
	}

	if s.HealthCheck == nil || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "127.0.0.1:8080/healthz") {
		t.Errorf("healthcheck %+v: want a request to /healthz", s.HealthCheck)
	}
	if s.Restart == "" || s.Restart == "no" {
		t.Errorf("restart policy %q: a server should come back", s.Restart)
	}
}

// TestComposeKeepsStreamKeys: the stream key store is on a named volume,
// so that keys made through the API survive the container, in a directory
// the image creates for the server's user (a volume takes the ownership of
// the directory it is mounted on).
func TestComposeKeepsStreamKeys(t *testing.T) {
	const dataVolume, dataDir = "data", "/var/lib/mediaserver/data"
	p := mustLoad(t)
	s := p.Services[serverService]
	if got := environment(s)["MEDIASERVER_ACCESS_DATA_DIR"]; got != dataDir {
		t.Errorf("MEDIASERVER_ACCESS_DATA_DIR = %q, want %s", got, dataDir)
	}
	if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && v.Source == dataVolume && v.Target == dataDir && !v.ReadOnly
	}) {
		t.Errorf("volumes %+v: want the named volume %q on %s", s.Volumes, dataVolume, dataDir)
	}
	if _, ok := p.Volumes[dataVolume]; !ok {
		t.Errorf("top-level volumes %q lack %q", p.VolumeNames(), dataVolume)
	}
	_, stages := parseDockerfile(t)
	runtime := find(t, stages, "runtime")
	if !slices.ContainsFunc(runtime.args("RUN"), func(a string) bool { return strings.Contains(a, dataDir) }) {
		t.Errorf("runtime stage does not create %s for the key volume (owned by the server's user)", dataDir)
	}
}

// TestComposeMountsConfigFile pins that settings which are YAML only
// (access.apps) can be given to the container: the compose file mounts the
// committed example configuration read-only where MEDIASERVER_CONFIG
// points, and the server accepts that file.
func TestComposeMountsConfigFile(t *testing.T) {
	p := mustLoad(t)
	s := p.Services[serverService]
	target := environment(s)[configEnv]
	if target == "" {
		t.Fatalf("environment lacks %s: the server would read no configuration file", configEnv)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	var mount *types.ServiceVolumeConfig
	for i, v := range s.Volumes {
		if v.Target == target {
			mount = &s.Volumes[i]
		}
	}
	if mount == nil {
		t.Fatalf("volumes %+v: nothing mounted on %s=%s", s.Volumes, configEnv, target)
	}
	if want := filepath.Join(root, exampleConfig); mount.Type != types.VolumeTypeBind || mount.Source != want {
		t.Errorf("%s is mounted from %s %q, want a bind mount of %s", target, mount.Type, mount.Source, want)
	}
	if !mount.ReadOnly {
		t.Errorf("%s is mounted read-write; the server only reads it", target)
	}

	data, err := os.ReadFile(filepath.Join(root, exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("%s: %v", exampleConfig, err)
	}
	if _, ok := cfg.Access.Apps["*"]; !ok {
		t.Errorf("%s sets access.apps %v: want the rule for every app shown, to be edited", exampleConfig, cfg.Access.Apps)
	}
	for app, rule := range cfg.Access.Apps {
		if len(rule.PublishKeys) > 0 {
			t.Errorf("%s restricts publishing to app %q (%q): the demo publisher and a first OBS stream would be refused",
				exampleConfig, app, rule.PublishKeys)
		}
	}
}

func TestComposeEnvironmentOverrides(t *testing.T) {
	p, err := loadCompose(t, []string{
		"MEDIASERVER_API_TOKEN=" + testToken,
		"MEDIASERVER_HLS_SEGMENT_DURATION=4s",
		"MEDIASERVER_LOG_LEVEL=debug",
	})
	if err != nil {
		t.Fatal(err)
	}
	env := environment(p.Services[serverService])
	if env["MEDIASERVER_HLS_SEGMENT_DURATION"] != "4s" || env["MEDIASERVER_LOG_LEVEL"] != "debug" {
		t.Errorf("the environment does not reach the server: %v", env)
	}
}

func TestComposeDemoProfile(t *testing.T) {
	p := mustLoad(t, demoProfile)
	names := p.ServiceNames()
	if !slices.Contains(names, serverService) || !slices.Contains(names, demoService) {
		t.Fatalf("services with the demo profile: %q", names)
	}
	demo := p.Services[demoService]
	if !slices.Equal(demo.Profiles, []string{demoProfile}) {
		t.Errorf("%s profiles %q, want only %q", demoService, demo.Profiles, demoProfile)
	}
	if demo.Build == nil || !slices.Contains(dockerfileStageNames(t), demo.Build.Target) || demo.Build.Target == "runtime" {
		t.Errorf("%s build %+v: want a Dockerfile stage with ffmpeg", demoService, demo.Build)
	}
	if dep, ok := demo.DependsOn[serverService]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("%s depends_on %+v: want %s healthy", demoService, demo.DependsOn, serverService)
	}

	cmd := []string(demo.Command)
	if len(cmd) == 0 || cmd[len(cmd)-1] != "rtmp://"+serverService+":1935/live/demo" {
		t.Fatalf("%s command %q: want to publish to rtmp://%s:1935/live/demo", demoService, cmd, serverService)
	}
	if !slices.Contains(cmd, "lavfi") || !slices.Contains(cmd, "libx264") || !slices.Contains(cmd, "aac") {
		t.Errorf("%s command %q: want an H.264/AAC test pattern", demoService, cmd)
	}
	// The demo must not trip the dashboard's keyframe warning: its keyframe
	// interval (-g frames at the pattern's rate) fits the default segment
	// target the compose file sets.
	gop, rate := argAfter(t, cmd, "-g"), 0.0
	for _, a := range cmd {
		if _, r, ok := strings.Cut(a, ":rate="); ok {
			rate, _ = strconv.ParseFloat(r, 64)
		}
	}
	target, err := time.ParseDuration(environment(p.Services[serverService])["MEDIASERVER_HLS_SEGMENT_DURATION"])
	if err != nil || rate == 0 {
		t.Fatalf("segment duration %v, frame rate %v", err, rate)
	}
	if interval := gop / rate; interval > target.Seconds() {
		t.Errorf("demo keyframe interval %.1f s exceeds the HLS segment target %v", interval, target)
	}
}

// environment returns a service's environment with unset values as "".
func environment(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

// argAfter returns the number following flag in args.
func argAfter(t *testing.T, args []string, flag string) float64 {
	t.Helper()
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("no %s in %q", flag, args)
	}
	n, err := strconv.ParseFloat(args[i+1], 64)
	if err != nil {
		t.Fatalf("%s %q: %v", flag, args[i+1], err)
	}
	return n
}

// checkEnvironmentNamesConfig checks every MEDIASERVER_* variable names a
// configuration key (the YAML path upper-cased and joined by "_", as
// cmd/mediaserver reads them) and holds a value of that key's type.
func checkEnvironmentNamesConfig(t *testing.T, env map[string]string) {
	t.Helper()
	fields := map[string]reflect.Type{}
	configEnvNames(reflect.TypeOf(server.DefaultConfig()), envPrefix, fields)
	for name, value := range env {
		if !strings.HasPrefix(name, envPrefix) || name == configEnv {
			continue
		}
		typ, ok := fields[name]
		if !ok {
			t.Errorf("%s names no configuration key", name)
			continue
		}
		if err := parsesAs(typ, value); err != nil {
			t.Errorf("%s=%q: %v", name, value, err)
		}
	}
}

// configEnvNames adds the environment variable name of every leaf of the
// configuration struct t.
func configEnvNames(t reflect.Type, prefix string, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(f.Name)
		}
		name := prefix + strings.ToUpper(key)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			configEnvNames(f.Type, name+"_", out)
			continue
		}
		out[name] = f.Type
	}
}

// parsesAs checks value can be read as a value of typ.
func parsesAs(typ reflect.Type, value string) error {
	if typ == reflect.TypeOf(time.Duration(0)) {
		_, err := time.ParseDuration(value)
		return err
	}
	var err error
	switch typ.Kind() {
	case reflect.Bool:
		_, err = strconv.ParseBool(value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err = strconv.ParseInt(value, 10, typ.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		_, err = strconv.ParseUint(value, 10, typ.Bits())
	case reflect.Float32, reflect.Float64:
		_, err = strconv.ParseFloat(value, typ.Bits())
	}
	return err
}

// TestComposeClusterProfile: the cluster profile runs Redis, two origins
// and two edges of the server's image, and nginx with the repository's
// configuration; every node names Redis and its role, origins advertise
// their own service name, and nothing else changes without the profile.
func TestComposeClusterProfile(t *testing.T) {
	p := mustLoad(t, "cluster")
	for _, name := range []string{"redis", "origin-a", "origin-b", "edge-a", "edge-b", "nginx"} {
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("cluster profile lacks %s (services %q)", name, p.ServiceNames())
		}
		if !slices.Equal(s.Profiles, []string{"cluster"}) {
			t.Errorf("%s profiles %q, want only cluster", name, s.Profiles)
		}
	}
	for name, role := range map[string]string{"origin-a": "origin", "origin-b": "origin", "edge-a": "edge", "edge-b": "edge"} {
		s := p.Services[name]
		env := environment(s)
		checkEnvironmentNamesConfig(t, env)
		if env["MEDIASERVER_CLUSTER_ROLE"] != role || env["MEDIASERVER_CLUSTER_REDIS"] != "redis://redis:6379" {
			t.Errorf("%s: role %q redis %q", name, env["MEDIASERVER_CLUSTER_ROLE"], env["MEDIASERVER_CLUSTER_REDIS"])
		}
		if role == "origin" && env["MEDIASERVER_CLUSTER_ADVERTISE"] != "http://"+name+":8080" {
			t.Errorf("%s advertises %q", name, env["MEDIASERVER_CLUSTER_ADVERTISE"])
		}
		if s.Build == nil || s.Build.Target != "runtime" || s.HealthCheck == nil {
			t.Errorf("%s: build %+v healthcheck %+v: want the server image with its health check", name, s.Build, s.HealthCheck)
		}
	}
	var conf bool
	for _, v := range p.Services["nginx"].Volumes {
		root, _ := filepath.Abs(repoRoot)
		conf = conf || v.Source == filepath.Join(root, "deploy", "nginx", "mediaserver.conf")
	}
	if !conf {
		t.Errorf("nginx volumes %+v: want deploy/nginx/mediaserver.conf", p.Services["nginx"].Volumes)
	}
}
