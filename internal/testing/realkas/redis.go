package realkas

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
)

// startRedis runs a private redis-server for KAS on a free loopback port,
// without persistence, and returns its address once it answers PING.
func startRedis(t testing.TB, dir string) (string, *testprocess.Process, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, fmt.Errorf("redis-server is not on PATH (run hack/realkas/install-redis.sh, which make test runs): %w", err)
	}
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		ports, err := testprocess.FreePorts(1)
		if err != nil {
			return "", nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(ports[0])
		p, err := testprocess.Start(t, "redis", filepath.Join(dir, "redis.log"), exec.Command(bin,
			"--bind", "127.0.0.1", "--port", strconv.Itoa(ports[0]),
			"--save", "", "--appendonly", "no", "--daemonize", "no",
			"--dir", dir, "--loglevel", "warning"))
		if err != nil {
			return "", nil, err
		}
		if lastErr = waitForPing(p, addr, 10*time.Second); lastErr == nil {
			return addr, p, nil
		}
		p.Stop()
	}
	return "", nil, lastErr
}

func waitForPing(p *testprocess.Process, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if !p.Running() {
			return fmt.Errorf("redis-server exited: %v\n%s", p.Err(), p.LogTail(20))
		}
		if ping(addr) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server at %s does not answer PING after %v\n%s", addr, timeout, p.LogTail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
