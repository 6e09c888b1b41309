//go:build !(linux || openbsd || darwin || freebsd || netbsd)

package statcache

import "os"

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
