// A loopback OCI registry with the OCI 1.1 referrers API, for the signature tests: the registry
// implementation of go-containerregistry (what `crane registry serve` runs) with referrers turned
// on, which crane has no flag for. Debian's docker-registry (distribution 2.8) has no referrers API.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalln(err)
	}
	// The harness reads the chosen port from this line.
	log.Printf("serving on %s", listener.Addr().String())
	server := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler:           registry.New(registry.WithReferrersSupport(true)),
	}
	log.Fatalln(server.Serve(listener))
}
