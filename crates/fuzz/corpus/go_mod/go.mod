module example.com/app

go 1.21
toolchain go1.21.5

require github.com/single/line v1.0.0

require (
	golang.org/x/text v0.3.7
	github.com/pkg/errors v0.9.1 // indirect
	"github.com/quoted/mod" v0.1.0
	github.com/fork/me v1.2.0
	github.com/local/dir v0.5.0
)

exclude golang.org/x/net v0.0.1

replace golang.org/x/text v0.3.7 => golang.org/x/text v0.3.8

replace (
	golang.org/x/text => golang.org/x/text v0.9.0 // path-wide, loses to the versioned one
	github.com/fork/me => github.com/me/fork v1.2.1
	github.com/local/dir => ../dir
)
