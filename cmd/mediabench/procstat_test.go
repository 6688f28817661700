package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	rest := " S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 8 0 100"
	cases := []struct {
		name string
		stat string
		want time.Duration
		ok   bool
	}{
		{"plain", "1234 (mediaserver)" + rest, 4 * time.Second, true},
		{"name with spaces and parens", "1234 (a) b (c)" + rest, 4 * time.Second, true},
		{"no name", "1234 mediaserver" + rest, 0, false},
		{"short", "1234 (x) S 1 2 3", 0, false},
		{"not a number", "1234 (x)" + strings.Replace(rest, "250", "x", 1), 0, false},
	}
	for _, tc := range cases {
		got, err := parseStatCPU([]byte(tc.stat))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: %v %v, want %v ok=%v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tmediaserver\nVmPeak:\t 9999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t7\n"
	m, err := parseStatus([]byte(status))
	if err != nil || m.RSS != 1<<20 || m.HWM != 2<<20 || m.Threads != 7 {
		t.Errorf("got %+v %v", m, err)
	}
	if _, err := parseStatus([]byte("Name:\tkthread\nThreads:\t1\n")); err == nil {
		t.Error("status without memory lines parsed")
	}
}

func TestProcessFigures(t *testing.T) {
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Errorf("cpu: %v", err)
	}
	m, err := processMemory(os.Getpid())
	if err != nil || m.RSS <= 0 || m.HWM < m.RSS {
		t.Errorf("memory: %+v %v", m, err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("cpu of pid -1")
	}
	if loadAverage() < 0 {
		t.Error("no load average")
	}
	if d := machineDescription(); !strings.Contains(d, "logical CPUs") {
		t.Errorf("machine %q", d)
	}
}
