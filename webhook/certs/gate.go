package certs

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// Gate returns server, holding back its Start until ready is closed. The
// manager starts webhook servers before anything else, and the server reads
// its certificate files on start, so without the gate it would fail before
// the Rotator had written them. Until then the server's StartedChecker
// fails, which keeps the replica out of the webhook Service.
func Gate(server webhook.Server, ready <-chan struct{}) webhook.Server {
	return &gated{Server: server, ready: ready}
}

type gated struct {
	webhook.Server
	ready <-chan struct{}
}

func (g *gated) Start(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-g.ready:
	}
	return g.Server.Start(ctx)
}
