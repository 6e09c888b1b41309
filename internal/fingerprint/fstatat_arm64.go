//go:build linux

package fingerprint

import "golang.org/x/sys/unix"

const fstatatTrap = unix.SYS_FSTATAT
