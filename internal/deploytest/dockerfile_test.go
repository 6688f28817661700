package deploytest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	Cmd  string // upper-cased: FROM, RUN, COPY …
	Args string
}

// stage is one FROM … AS name section.
type stage struct {
	Name, Image  string
	Instructions []instruction
}

// parseDockerfile reads the Dockerfile at the repository root into its
// global ARGs and its stages.
func parseDockerfile(t *testing.T) (globals []instruction, stages []stage) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	var cont strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cont.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cont.WriteString(line)
		lines = append(lines, cont.String())
		cont.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			fields := strings.Fields(in.Args)
			st := stage{Image: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.Name = fields[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			globals = append(globals, in)
			continue
		}
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
	}
	return globals, stages
}

// dockerfileStageNames returns the names of the Dockerfile's stages.
func dockerfileStageNames(t *testing.T) []string {
	t.Helper()
	_, stages := parseDockerfile(t)
	var names []string
	for _, s := range stages {
		names = append(names, s.Name)
	}
	return names
}

// find returns the stage called name or fails.
func find(t *testing.T, stages []stage, name string) stage {
	t.Helper()
	for _, s := range stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("Dockerfile has no stage %q", name)
	return stage{}
}

// args returns the arguments of every instruction cmd of the stage.
func (s stage) args(cmd string) []string {
	var out []string
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in.Args)
		}
	}
	return out
}

func TestDockerfileStages(t *testing.T) {
	globals, stages := parseDockerfile(t)
	names := dockerfileStageNames(t)
	for _, want := range []string{"web", "build", "demo", "runtime"} {
		if !slices.Contains(names, want) {
			t.Errorf("stages %q lack %q", names, want)
		}
	}
	if names[len(names)-1] != "runtime" {
		t.Errorf("last stage %q: a plain docker build must produce the server (runtime)", names[len(names)-1])
	}

	// web: the players from npm, exactly as package-lock.json pins them.
	web := find(t, stages, "web")
	if !slices.ContainsFunc(web.args("RUN"), func(a string) bool { return strings.Contains(a, "npm ci") }) {
		t.Error("web stage does not run npm ci")
	}
	copied := map[string]string{}
	cpRE := regexp.MustCompile(`cp (node_modules/\S+) (vendor/\S+)`)
	for _, run := range web.args("RUN") {
		for _, m := range cpRE.FindAllStringSubmatch(run, -1) {
			copied[m[2]] = m[1]
		}
	}
	for _, v := range []struct{ vendor, npm string }{
		{"vendor/hls.js/hls.min.js", "node_modules/hls.js/dist/hls.min.js"},
		{"vendor/mpegts.js/mpegts.js", "node_modules/mpegts.js/dist/mpegts.js"},
		{"vendor/hls.js/LICENSE.txt", "node_modules/hls.js/LICENSE"},
		{"vendor/mpegts.js/LICENSE.txt", "node_modules/mpegts.js/LICENSE"},
		{"vendor/mpegts.js/mpegts.js.LICENSE.txt", "node_modules/mpegts.js/dist/mpegts.js.LICENSE.txt"},
	} {
		if copied[v.vendor] != v.npm {
			t.Errorf("web stage copies %q to %s, want %q", copied[v.vendor], v.vendor, v.npm)
		}
		// The same files are committed where go:embed finds them.
		if _, err := os.Stat(filepath.Join(repoRoot, "web", "static", filepath.FromSlash(v.vendor))); err != nil {
			t.Errorf("web/static/%s: %v", v.vendor, err)
		}
	}

	// build: the web stage's players land where go:embed reads them.
	build := find(t, stages, "build")
	if !slices.ContainsFunc(build.args("COPY"), func(a string) bool {
		return strings.HasPrefix(a, "--from=web ") && strings.HasSuffix(a, " web/static/vendor/")
	}) {
		t.Error("build stage does not copy the web stage's players into web/static/vendor/")
	}
	if !slices.ContainsFunc(build.args("RUN"), func(a string) bool {
		return strings.Contains(a, "go build") && strings.Contains(a, "./cmd/mediaserver") && strings.Contains(a, "CGO_ENABLED=0")
	}) {
		t.Error("build stage does not build ./cmd/mediaserver statically")
	}
	checkGoVersion(t, globals, build)

	// runtime: small, unprivileged, the binary from build, both ports.
	runtime := find(t, stages, "runtime")
	if !strings.Contains(runtime.Image, "alpine") && !strings.Contains(runtime.Image, "distroless") {
		t.Errorf("runtime image %q is not a small base", runtime.Image)
	}
	if !slices.ContainsFunc(runtime.args("COPY"), func(a string) bool { return strings.HasPrefix(a, "--from=build ") }) {
		t.Error("runtime stage does not take the binary from the build stage")
	}
	if user := runtime.args("USER"); len(user) == 0 || user[len(user)-1] == "root" || user[len(user)-1] == "0" {
		t.Errorf("runtime USER %q: want an unprivileged user", user)
	}
	if expose := strings.Fields(strings.Join(runtime.args("EXPOSE"), " ")); !slices.Contains(expose, "1935") || !slices.Contains(expose, "8080") {
		t.Errorf("runtime EXPOSE %q, want 1935 and 8080", expose)
	}
	if hc := runtime.args("HEALTHCHECK"); len(hc) == 0 || !strings.Contains(hc[0], "/healthz") {
		t.Errorf("runtime HEALTHCHECK %q, want /healthz", hc)
	}
	if !slices.ContainsFunc(runtime.args("RUN"), func(a string) bool { return strings.Contains(a, hlsDir) }) {
		t.Errorf("runtime stage does not create %s for the HLS volume (owned by the server's user)", hlsDir)
	}

	demo := find(t, stages, "demo")
	if !slices.ContainsFunc(demo.args("RUN"), func(a string) bool { return strings.Contains(a, "ffmpeg") }) {
		t.Error("demo stage does not install ffmpeg")
	}
}

// checkGoVersion checks the build stage's Go image is the go.mod version.
func checkGoVersion(t *testing.T, globals []instruction, build stage) {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	image := build.Image
	for _, g := range globals {
		if name, value, ok := strings.Cut(g.Args, "="); g.Cmd == "ARG" && ok {
			image = strings.ReplaceAll(image, "${"+name+"}", value)
		}
	}
	if !strings.HasPrefix(image, "golang:"+string(m[1])) {
		t.Errorf("build image %q, want golang:%s (go.mod)", image, m[1])
	}
}

func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	for _, want := range []string{".git", "node_modules", ".env"} {
		if !slices.Contains(patterns, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
	for _, needed := range []string{"web", "web/static", "go.mod", "go.sum", "cmd", "package.json", "package-lock.json"} {
		if slices.Contains(patterns, needed) || slices.Contains(patterns, needed+"/") {
			t.Errorf(".dockerignore excludes %q, which the build needs", needed)
		}
	}
}
