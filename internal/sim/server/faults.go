package server

import (
	"fmt"
	"strings"
	"sync"

	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// faults holds injected failures: the next Count calls of service/operation fail with
// Kind ("throttle" or "500"). Operation "*" matches every operation of the service.
type faults struct {
	mu      sync.Mutex
	pending map[string]*store.FaultConfig
}

func newFaults() *faults { return &faults{pending: map[string]*store.FaultConfig{}} }

func faultKey(service, op string) string { return strings.ToLower(service) + "/" + strings.ToLower(op) }

func (f *faults) add(fc store.FaultConfig) error {
	if fc.Kind != "throttle" && fc.Kind != "500" {
		return fmt.Errorf("kind must be \"throttle\" or \"500\", got %q", fc.Kind)
	}
	switch strings.ToLower(fc.Service) {
	case "iam", "sts", "s3", "datasync", "states", "kms", "events":
	default:
		return fmt.Errorf("service must be iam, sts, s3, datasync, states, kms or events, got %q", fc.Service)
	}
	if fc.Operation == "" || fc.Count < 0 {
		return fmt.Errorf("operation is required and count must be >= 0")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fc.Count == 0 {
		delete(f.pending, faultKey(fc.Service, fc.Operation))
		return nil
	}
	c := fc
	f.pending[faultKey(fc.Service, fc.Operation)] = &c
	return nil
}

// take consumes one fault for the call, returning its kind ("" = none).
func (f *faults) take(service, op string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range []string{faultKey(service, op), faultKey(service, "*")} {
		if fc, ok := f.pending[k]; ok {
			fc.Count--
			if fc.Count <= 0 {
				delete(f.pending, k)
			}
			return fc.Kind
		}
	}
	return ""
}

func (f *faults) list() []store.FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]store.FaultConfig, 0, len(f.pending))
	for _, fc := range f.pending {
		out = append(out, *fc)
	}
	return out
}
