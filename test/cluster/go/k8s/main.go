// Command k8s is one multi-call binary for the control plane: it dispatches on the name it is
// invoked as (a symlink) or on its first argument. One binary links once instead of four times.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func command(name string) *cobra.Command {
	switch name {
	case "kube-apiserver":
		return apiserver.NewAPIServerCommand()
	case "kube-controller-manager":
		return controllermanager.NewControllerManagerCommand()
	case "kube-scheduler":
		return scheduler.NewSchedulerCommand()
	case "kubectl":
		return kubectlcmd.NewDefaultKubectlCommand()
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
		fmt.Fprintln(os.Stderr, "usage: k8s {kube-apiserver|kube-controller-manager|kube-scheduler|kubectl} [flags]")
		os.Exit(2)
	}
	os.Exit(cli.Run(cmd))
}
