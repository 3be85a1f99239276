// Command pause holds a pod's namespaces open, like Kubernetes' pause container: it blocks until
// SIGTERM or SIGINT (then exits 0) and, as PID 1 of a shared PID namespace, reaps every child that
// exits (SIGCHLD), so that no zombie outlives its container.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause (cloudconnect local build)")
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "warning: pause should be the first process")
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "shutting down, got signal: %v\n", sig)
		os.Exit(0)
	}
}

// reap collects every exited child without blocking; SIGCHLDs coalesce, so it loops until none is left.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
