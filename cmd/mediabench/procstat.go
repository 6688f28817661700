package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. The
// kernel exports 100 to user space on every architecture Go supports on
// Linux (getconf CLK_TCK), independent of the kernel's internal HZ.
const clockTicks = 100

// maxProcFile caps what is read from one /proc file.
const maxProcFile = 64 << 10

// readProcFile reads a small /proc file.
func readProcFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProcFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// processCPU returns the user plus system CPU time of process pid.
func processCPU(pid int) (time.Duration, error) {
	b, err := readProcFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU extracts utime+stime from the contents of /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces, so the
// fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	// After ")": field 3 (state) onwards; utime is field 14, stime 15.
	fields := strings.Fields(string(b[i+1:]))
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("stat: %d fields after the command name", len(fields))
	}
	u, err1 := strconv.ParseUint(fields[utime], 10, 64)
	s, err2 := strconv.ParseUint(fields[stime], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat: utime %q stime %q", fields[utime], fields[stime])
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// memStatus is the memory part of /proc/PID/status, in bytes.
type memStatus struct {
	RSS     int64 // VmRSS: resident now
	HWM     int64 // VmHWM: peak resident
	Threads int
}

// processMemory reads /proc/PID/status.
func processMemory(pid int) (memStatus, error) {
	b, err := readProcFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memStatus{}, err
	}
	return parseStatus(b)
}

// parseStatus extracts VmRSS, VmHWM and Threads from /proc/PID/status.
func parseStatus(b []byte) (memStatus, error) {
	var m memStatus
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.RSS = n << 10 // kB
			found++
		case "VmHWM":
			m.HWM = n << 10
			found++
		case "Threads":
			m.Threads = int(n)
		}
	}
	if found < 2 {
		return m, fmt.Errorf("status: VmRSS or VmHWM missing")
	}
	return m, nil
}

// loadAverage returns the 1-minute load average, or -1 when unknown.
func loadAverage() float64 {
	b, err := readProcFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// selfCPU returns the CPU time this process (the load tool) used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineDescription describes the host for the benchmark record: CPU
// model, logical CPUs, memory and kernel.
func machineDescription() string {
	model := "unknown CPU"
	if b, err := readProcFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := readProcFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
					}
				}
				break
			}
		}
	}
	kernel := ""
	if b, err := readProcFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d logical CPUs%s%s, %s", model, runtime.NumCPU(), mem, kernel, runtime.Version())
}
