package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/datasync"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// admin serves /_sim/: credentials, faults, settings, state, healthz (plain JSON).
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/")
	switch route {
	case "GET /_sim/healthz":
		writeJSON(w, 200, map[string]any{"ok": true})
	case "GET /_sim/events":
		// The events EventBridge PutEvents accepted, oldest first.
		writeJSON(w, 200, map[string]any{"events": s.events.list()})
	case "POST /_sim/credentials":
		var in struct {
			RoleArn     string `json:"roleArn"`
			SessionName string `json:"sessionName"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if in.SessionName == "" {
			in.SessionName = "awssim"
		}
		c, err := s.store.IssueSession(in.RoleArn, in.SessionName, 12*time.Hour)
		if err != nil {
			writeJSON(w, 404, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]string{"accessKeyId": c.AccessKeyID, "secretAccessKey": c.SecretAccessKey,
			"sessionToken": c.SessionToken, "expiration": isoTime(c.Expiration), "arn": c.Principal.Arn})
	case "POST /_sim/faults":
		var in store.FaultConfig
		if !readJSON(w, r, &in) {
			return
		}
		if err := s.faults.add(in); err != nil {
			writeJSON(w, 400, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"faults": s.faults.list()})
	case "POST /_sim/settings":
		var in struct {
			PropagationDelaySeconds *float64 `json:"propagationDelaySeconds"`
			TimeScale               *float64 `json:"timeScale"`
			TransferBytesPerSecond  *float64 `json:"transferBytesPerSecond"` // a JSON number in any form
		}
		if !readJSON(w, r, &in) {
			return
		}
		var bps *int64
		if in.TransferBytesPerSecond != nil {
			v := int64(*in.TransferBytesPerSecond)
			bps = &v
		}
		var delay *time.Duration
		if in.PropagationDelaySeconds != nil {
			d := time.Duration(*in.PropagationDelaySeconds * float64(time.Second))
			delay = &d
		}
		s.store.UpdateSettings(delay, in.TimeScale, bps)
		writeJSON(w, 200, s.settingsJSON())
	case "POST /_sim/kms/keys":
		// Seeds a customer managed key with a chosen id (a deployment's configuration
		// names its source keys by ARN); policy "" is the default key policy.
		var in struct {
			AccountID   string          `json:"accountId"`
			KeyID       string          `json:"keyId"`
			Description string          `json:"description"`
			Policy      json.RawMessage `json:"policy"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		doc := ""
		if len(in.Policy) > 0 && string(in.Policy) != "null" {
			doc = string(in.Policy)
		}
		k, err := s.store.CreateKeyWithID(in.AccountID, in.KeyID, in.Description, doc)
		if err != nil {
			writeJSON(w, 400, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]string{"keyId": k.KeyID, "arn": k.Arn})
	case "GET /_sim/calls":
		// ?since=N: the calls from the N-th on (0-based), to read only those of one run.
		from, _ := strconv.Atoi(r.URL.Query().Get("since"))
		writeJSON(w, 200, map[string]any{"calls": s.calls.since(from)})
	case "POST /_sim/buckets/settings":
		var in struct {
			Bucket string `json:"bucket"`
			store.BucketSettings
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := s.store.SetBucketSettings(in.Bucket, in.BucketSettings); err != nil {
			writeJSON(w, 400, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"bucket": in.Bucket, "settings": in.BucketSettings})
	case "GET /_sim/state":
		writeJSON(w, 200, s.state())
	case "POST /_sim/states/state-machines":
		s.states.registerMachine(w, r)
	case "POST /_sim/states/executions":
		s.states.putExecution(w, r)
	default:
		writeJSON(w, 404, map[string]string{"error": "no admin route " + route})
	}
}

// State is the answer of GET /_sim/state: what the simulator holds in every account.
type State struct {
	Region   string              `json:"region"`
	Settings SettingsState       `json:"settings"`
	Accounts map[string][]string `json:"accounts"` // account id → user ARNs
	Users    []UserState         `json:"users"`
	Roles    []RoleState         `json:"roles"`
	Buckets  []BucketState       `json:"buckets"`
	Faults   []store.FaultConfig `json:"faults"` // injected, not yet used up
	DataSync *datasync.State     `json:"datasync,omitempty"`
	// StepFunctions holds the executions registered for ListExecutions.
	StepFunctions StepFunctionsState `json:"stepFunctions"`
	// KMSKeys are the KMS keys with their grants.
	KMSKeys []KMSKeyState `json:"kmsKeys"`
	// The contract lists DataSync's locations, tasks and executions at the top level
	// too (the same values as DataSync's).
	*datasync.State
}

// SettingsState is the simulator's run-time settings (POST /_sim/settings changes them).
type SettingsState struct {
	PropagationDelaySeconds float64 `json:"propagationDelaySeconds"`
	TimeScale               float64 `json:"timeScale"`
	TransferBytesPerSecond  int64   `json:"transferBytesPerSecond"`
}

func (s *Server) settingsJSON() SettingsState {
	st := s.store.Settings()
	return SettingsState{PropagationDelaySeconds: st.PropagationDelay.Seconds(), TimeScale: st.TimeScale,
		TransferBytesPerSecond: st.TransferBytesPerSecond}
}

// KMSKeyState is a KMS key in a State.
type KMSKeyState struct {
	Arn        string          `json:"arn"`
	KeyManager string          `json:"keyManager"`
	Policy     json.RawMessage `json:"policy"`
	Grants     []KMSGrantState `json:"grants"`
}

// KMSGrantState is a grant of a KMSKeyState.
type KMSGrantState struct {
	GrantID          string   `json:"grantId"`
	Name             string   `json:"name"`
	GranteePrincipal string   `json:"granteePrincipal"`
	Operations       []string `json:"operations"`
}

func (s *Server) kmsState() []KMSKeyState {
	out := []KMSKeyState{}
	grants := s.store.KMSGrants()
	for _, k := range s.store.KMSKeys() {
		ks := KMSKeyState{Arn: k.Arn, KeyManager: k.KeyManager, Policy: rawOrString(k.Policy), Grants: []KMSGrantState{}}
		for _, g := range grants {
			if g.KeyArn == k.Arn {
				ks.Grants = append(ks.Grants, KMSGrantState{g.GrantID, g.Name, g.GranteePrincipal, g.Operations})
			}
		}
		out = append(out, ks)
	}
	return out
}

// RoleState is an IAM role in a State.
type RoleState struct {
	Arn            string                     `json:"arn"`
	Name           string                     `json:"name"`
	AccountID      string                     `json:"accountId"`
	CreateDate     string                     `json:"createDate"`
	TrustPolicy    json.RawMessage            `json:"trustPolicy"`
	InlinePolicies map[string]json.RawMessage `json:"inlinePolicies"`
	Tags           map[string]string          `json:"tags"`
}

// BucketState is an S3 bucket in a State; Policy is null when it has none.
type BucketState struct {
	Name      string          `json:"name"`
	Region    string          `json:"region"`
	Owner     string          `json:"owner"`
	Ownership string          `json:"ownership"`
	Policy    json.RawMessage `json:"policy"`
	Objects   int             `json:"objectCount"`
	Bytes     int64           `json:"bytes"`
	// PolicySids is the Sids of every policy version put on the bucket, oldest first.
	PolicySids [][]string `json:"policySidHistory,omitempty"`
}

func rawOrString(doc string) json.RawMessage {
	if doc == "" {
		return json.RawMessage("null")
	}
	if json.Valid([]byte(doc)) {
		return json.RawMessage(doc)
	}
	b, _ := json.Marshal(doc)
	return b
}

// UserState is an IAM user in a State.
type UserState struct {
	Arn       string            `json:"arn"`
	AccountID string            `json:"accountId"`
	Policies  []json.RawMessage `json:"policies"`
}

func (s *Server) state() State {
	roles := []RoleState{}
	for _, r := range s.store.Roles() {
		sr := RoleState{Arn: r.Arn, Name: r.Name, AccountID: r.AccountID, CreateDate: isoTime(r.CreateDate),
			TrustPolicy: rawOrString(r.AssumeRolePolicyDocument), InlinePolicies: map[string]json.RawMessage{}, Tags: map[string]string{}}
		for name, doc := range r.InlinePolicies {
			sr.InlinePolicies[name] = rawOrString(doc)
		}
		for _, t := range sortedTags(r.Tags) {
			sr.Tags[t.Key] = t.Value
		}
		roles = append(roles, sr)
	}
	users := []UserState{}
	for _, u := range s.store.Users() {
		su := UserState{Arn: u.Arn, AccountID: u.AccountID, Policies: []json.RawMessage{}}
		for _, d := range u.Docs {
			su.Policies = append(su.Policies, rawOrString(d))
		}
		users = append(users, su)
	}
	buckets := []BucketState{}
	for _, b := range s.store.Buckets() {
		buckets = append(buckets, BucketState{Name: b.Name, Region: b.Region, Owner: b.Owner, Ownership: b.Ownership,
			Policy: rawOrString(b.Policy), Objects: b.Objects, Bytes: b.Bytes, PolicySids: b.PolicySids})
	}
	out := State{Region: s.store.Region(), Settings: s.settingsJSON(), Accounts: s.store.Accounts(),
		Users: users, Roles: roles, Buckets: buckets, Faults: s.faults.list(), StepFunctions: s.states.state(), KMSKeys: s.kmsState()}
	if s.datasync != nil {
		ds := s.datasync.State()
		out.DataSync, out.State = &ds, &ds
	}
	return out
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		writeJSON(w, 400, map[string]string{"error": "bad JSON: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveDataSync authenticates, applies faults and hands the request to the DataSync
// service with the caller in the context (JSON 1.1 errors).
func (s *Server) serveDataSync(w http.ResponseWriter, r *http.Request, c caller, authErr *store.Error) {
	jsonErr := func(status int, typ, msg string) {
		jsonProtocolError(w, "application/x-amz-json-1.1", status, typ, msg)
	}
	if authErr != nil {
		switch authErr.Code {
		case "InvalidClientTokenId":
			jsonErr(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
		case "ExpiredToken":
			jsonErr(400, "ExpiredTokenException", "The security token included in the request is expired")
		case "MissingAuthenticationToken":
			jsonErr(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
		default:
			jsonErr(400, "IncompleteSignatureException", authErr.Message)
		}
		return
	}
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndex(op, "."); i >= 0 {
		op = op[i+1:]
	}
	if kind := s.faults.take("datasync", op); kind != "" {
		if kind == "throttle" {
			jsonErr(400, "ThrottlingException", "Rate exceeded")
		} else {
			jsonErr(500, "InternalException", "An internal error occurred. Please try again.")
		}
		return
	}
	if s.datasync == nil {
		jsonErr(400, "UnknownOperationException", "DataSync is not wired into this simulator")
		return
	}
	ctx := identity.WithRequestedRegion(identity.WithPrincipal(r.Context(), c.principal), c.sig.Region)
	s.datasync.Handler.ServeHTTP(w, r.WithContext(ctx))
}
