package main

import (
	"runtime/debug"
	"strings"
)

// version describes the build: the module's version (a tag, a
// pseudo-version, or "(devel)" for a build from a checkout), the source
// revision when the build recorded it, and the Go version. The C libraries'
// versions are not included: libnetfilter_queue does not report its own.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "nfqdump: no build information in this binary"
	}
	var rev []string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = append(rev, "revision "+s.Value)
		case s.Key == "vcs.modified" && s.Value == "true":
			rev = append(rev, "modified")
		}
	}
	parts := append([]string{"nfqdump " + bi.Main.Version, "module " + bi.Main.Path}, rev...)
	return strings.Join(append(parts, bi.GoVersion), ", ")
}
