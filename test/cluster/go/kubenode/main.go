// Command kubenode is one multi-call binary for the real node: the kubelet and kube-proxy, built
// with the same pins as the control plane (go/k8s). It dispatches on the name it is invoked as
// (a symlink) or on its first argument.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

func command(name string) *cobra.Command {
	switch name {
	case "kubelet":
		return kubelet.NewKubeletCommand(context.Background())
	case "kube-proxy":
		return proxy.NewProxyCommand()
	}
	return nil
}

func main() {
	name := filepath.Base(os.Args[0])
	cmd := command(name)
	if cmd == nil && len(os.Args) > 1 {
		if cmd = command(os.Args[1]); cmd != nil {
			os.Args = append([]string{os.Args[1]}, os.Args[2:]...)
		}
	}
	if cmd == nil {
		fmt.Fprintln(os.Stderr, "usage: kubenode {kubelet|kube-proxy} [flags]")
		os.Exit(2)
	}
	os.Exit(cli.Run(cmd))
}
