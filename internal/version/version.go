// Package version holds the build's version stamp.
//
// Release builds set the variables with
//
//	-ldflags "-X github.com/podium-ml/podium/internal/version.Version=v1.2.3 ..."
//
// A plain `go build` leaves Version as "dev" and fills Commit and Date from
// the VCS information the Go toolchain embeds, when there is any.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped at link time.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info is the version stamp of the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the stamp, falling back to the toolchain's build info for the
// fields the linker did not set.
func Get() Info {
	info := Info{
		Version:   Version,
		Commit:    Commit,
		Date:      Date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}

// String is the one-line form `podium version` prints.
func (i Info) String() string {
	return fmt.Sprintf("podium %s (commit %s, built %s, %s %s)", i.Version, i.Commit, i.Date, i.GoVersion, i.Platform)
}
