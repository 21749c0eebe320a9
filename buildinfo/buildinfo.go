// Package buildinfo says which build of Churnwatch is running: what
// `starter --version` and `worker --version` print.
package buildinfo

import (
	"fmt"
	"runtime/debug"

	"github.com/churnwatch/churnwatch/risk"
)

// commit is the VCS commit, set at link time by `make build`
// (-ldflags "-X github.com/churnwatch/churnwatch/buildinfo.commit=..."):
// builds here run with GOFLAGS=-buildvcs=false, so the Go toolchain does
// not stamp one.
var commit string

// String describes the build of program in one line: the module version,
// the VCS commit when known, the risk model version and the Go version.
func String(program string) string {
	version, rev, goVersion := "(devel)", commit, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		goVersion = bi.GoVersion
		if rev == "" {
			rev = vcsRevision(bi.Settings)
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("%s version %s, commit %s, risk model %s, built with %s", program, version, rev, risk.ModelVersion, goVersion)
}

// vcsRevision is the commit the toolchain stamped, marked when the tree
// had uncommitted changes; "" when it stamped none.
func vcsRevision(settings []debug.BuildSetting) string {
	rev, modified := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}
