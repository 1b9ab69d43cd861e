// Package onmoto runs an example program's story against a moto server
// (the Python implementation of the AWS APIs that fleetdeploy's AWS
// adapters are tested with): the one at -endpoint or
// FLEETDEPLOY_AWS_ENDPOINT, or one it starts on a free loopback port and
// stops at the end.
package onmoto

import (
	"fmt"
	"os"

	"github.com/fleetdeploy/fleetdeploy/internal/motoserver"
)

// Tell runs tell with the URL of a moto server: endpoint when not empty,
// else the server FLEETDEPLOY_AWS_ENDPOINT names, else one it starts —
// saying so through printf — and stops once tell returns ("moto
// stopped."). The error is tell's, or that of starting or stopping the
// server.
func Tell(endpoint string, printf func(format string, args ...any), tell func(url string) error) error {
	url, started := endpoint, false
	var err error
	if url == "" {
		if started = os.Getenv(motoserver.EndpointEnv) == ""; started {
			printf("Starting moto (python3 -m moto.server) ...")
		}
		url, err = motoserver.Start()
	}
	if err == nil {
		err = tell(url)
	}
	if started {
		stopErr := motoserver.Stop()
		if err == nil && stopErr != nil {
			err = fmt.Errorf("stopping moto: %w", stopErr)
		}
		if stopErr == nil {
			printf("moto stopped.")
		}
	}
	return err
}
