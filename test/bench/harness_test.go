// Package bench measures whole-process times side by side in one run and
// reports ratios, because these machines are noisy. Run it with make bench.
package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binaries under test, built like releases (stripped).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kubectl-gitlab-bench-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := 1
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	printReport()
	os.RemoveAll(dir)
	os.Exit(code)
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func build(dir string) error {
	for name, pkg := range map[string]string{"kubectl-gitlab": "./cmd/kubectl-gitlab", "reference": "./test/bench/reference"} {
		c := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, name), pkg)
		c.Dir = moduleRoot()
		c.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
	}
	return nil
}

// command is one program invocation to time.
type command struct {
	Name string
	Path string
	Args []string
	Env  []string
	Dir  string
	// Setup runs before each timed run (untimed), e.g. to restore a file.
	Setup func() error
}

func (c command) run() (time.Duration, []byte, error) {
	d, out, _, err := c.runRSS()
	return d, out, err
}

// runRSS also returns the process's peak resident memory in bytes.
func (c command) runRSS() (time.Duration, []byte, int64, error) {
	if c.Setup != nil {
		if err := c.Setup(); err != nil {
			return 0, nil, 0, err
		}
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	var rss int64
	if usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = usage.Maxrss * 1024 // Linux reports KiB
	}
	return elapsed, out.Bytes(), rss, err
}

// row is a line of the report.
type row struct {
	Group, Name string
	Median      time.Duration
	Ratio       float64 // to the group's baseline
	Size        int64
	RSS         int64 // median peak resident memory
	Extra       string
}

var (
	reportMu sync.Mutex
	report   []row
)

// compare runs the commands alternately b.N times (the order rotating each
// round), and reports each one's median and its ratio to the first.
func compare(b *testing.B, group string, cmds ...command) []time.Duration {
	b.Helper()
	return compareRounds(b, group, b.N, cmds...)
}

// compareRounds is compare with at most maxRounds rounds, for commands that
// take a large part of a second each.
func compareRounds(b *testing.B, group string, maxRounds int, cmds ...command) []time.Duration {
	b.Helper()
	times := make([][]time.Duration, len(cmds))
	rss := make([][]time.Duration, len(cmds)) // bytes, kept as durations to share median()
	for i, c := range cmds {                  // warm-up, and check that each works
		if _, out, err := c.run(); err != nil {
			b.Fatalf("%s: %v\n%s", c.Name, err, out)
		}
		_ = i
	}
	b.ResetTimer()
	for n := 0; n < min(b.N, maxRounds); n++ {
		for k := range cmds {
			i := (n + k) % len(cmds)
			d, out, mem, err := cmds[i].runRSS()
			if err != nil {
				b.Fatalf("%s: %v\n%s", cmds[i].Name, err, out)
			}
			times[i] = append(times[i], d)
			rss[i] = append(rss[i], time.Duration(mem))
		}
	}
	b.StopTimer()
	medians := make([]time.Duration, len(cmds))
	for i := range cmds {
		medians[i] = median(times[i])
	}
	for i, c := range cmds {
		ratio := float64(medians[i]) / float64(medians[0])
		b.ReportMetric(float64(medians[i].Microseconds())/1000, metricName(c.Name)+"-ms")
		if i > 0 {
			b.ReportMetric(ratio, metricName(c.Name)+"-ratio")
		}
		addRow(row{Group: group, Name: c.Name, Median: medians[i], Ratio: ratio, Size: fileSize(c.Path), RSS: int64(median(rss[i]))})
	}
	return medians
}

func addRow(r row) {
	reportMu.Lock()
	defer reportMu.Unlock()
	for i := range report {
		if report[i].Group == r.Group && report[i].Name == r.Name {
			report[i] = r // the last -count wins
			return
		}
	}
	report = append(report, r)
}

func metricName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return '-'
	}, s)
	return strings.Trim(s, "-")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil || !filepath.IsAbs(path) || !strings.HasPrefix(path, binDir) {
		return 0
	}
	return info.Size()
}

// printReport prints the table that the README's performance section holds.
func printReport() {
	if len(report) == 0 {
		return
	}
	fmt.Printf("\n| group | command | median | × baseline | max RSS | stripped size |\n|---|---|---|---|---|---|\n")
	for _, r := range report {
		size := "-"
		if r.Size > 0 {
			size = fmt.Sprintf("%.1f MB", float64(r.Size)/1e6)
		}
		fmt.Printf("| %s | %s | %s | %.2f | %.0f MB | %s |%s\n", r.Group, r.Name, fmtDuration(r.Median), r.Ratio, float64(r.RSS)/1e6, size, r.Extra)
	}
}

func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
	return d.Round(time.Millisecond).String()
}
