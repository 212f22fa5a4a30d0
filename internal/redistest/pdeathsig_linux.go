package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the redis-server when the test
// process dies without running its cleanup (a panic, a timeout).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
