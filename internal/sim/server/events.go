package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// PutEvent is an event the simulated EventBridge accepted, as GET /_sim/events lists it.
type PutEvent struct {
	ID           string          `json:"id"`
	EventBusArn  string          `json:"eventBusArn"`
	Account      string          `json:"account"`
	Source       string          `json:"source"`
	DetailType   string          `json:"detailType"`
	Detail       json.RawMessage `json:"detail"`
	Resources    []string        `json:"resources"`
	Time         time.Time       `json:"time"`
	PrincipalArn string          `json:"principalArn"`
}

// eventLog keeps the accepted events in order; nothing consumes them but the admin API.
type eventLog struct {
	mu     sync.Mutex
	events []PutEvent
	next   int
}

func (l *eventLog) add(e PutEvent) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	e.ID = fmt.Sprintf("00000000-0000-0000-0000-%012d", l.next)
	l.events = append(l.events, e)
	return e.ID
}

func (l *eventLog) list() []PutEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]PutEvent{}, l.events...)
}

// maxEntrySize is EventBridge's limit on an entry of PutEvents: 256 KB ("Amazon EventBridge
// quotas"; the simulator counts the JSON of source, detail-type, detail and resources).
const maxEntrySize = 256 * 1024

// serveEvents answers Amazon EventBridge's PutEvents (JSON 1.1, X-Amz-Target
// AWSEvents.PutEvents), the one operation dsmigrate calls (the Publish* states). Each entry
// is authorized on its own, as EventBridge reports it: events:PutEvents on the bus with
// the condition keys events:source and events:detail-type (Service Authorization
// Reference, Amazon EventBridge); a denied or malformed entry gets an ErrorCode
// (PutEventsResultEntry, EventBridge API Reference) and counts in FailedEntryCount.
// Buses are not modelled: any bus name of the caller's account is accepted. Accepted
// events are kept for GET /_sim/events; no rule or target runs.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request, c caller, authErr *store.Error) {
	jsonErr := func(status int, typ, msg string) {
		jsonProtocolError(w, "application/x-amz-json-1.1", status, typ, msg)
	}
	if jsonProtocolAuthError(w, "application/x-amz-json-1.1", authErr) {
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSEvents.")
	if op != "PutEvents" {
		jsonErr(400, "UnknownOperationException", "The simulator serves EventBridge PutEvents only, not "+op)
		return
	}
	var in struct {
		Entries []struct {
			Source       string   `json:"Source"`
			DetailType   string   `json:"DetailType"`
			Detail       string   `json:"Detail"`
			EventBusName string   `json:"EventBusName"`
			Resources    []string `json:"Resources"`
		} `json:"Entries"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2<<20)).Decode(&in); err != nil {
		jsonErr(400, "SerializationException", err.Error())
		return
	}
	// PutEvents takes 1 to 10 entries (EventBridge API Reference, PutEvents).
	if len(in.Entries) < 1 || len(in.Entries) > 10 {
		jsonErr(400, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10 (got %d)", len(in.Entries)))
		return
	}
	fault := s.faults.take("events", op)
	p := c.principal
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:"ErrorCode,omitempty"`
		ErrorMessage string `json:"ErrorMessage,omitempty"`
	}
	out := struct {
		FailedEntryCount int      `json:"FailedEntryCount"`
		Entries          []result `json:"Entries"`
	}{Entries: []result{}}
	for _, e := range in.Entries {
		res := func() result {
			switch fault {
			case "throttle":
				return result{ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded"}
			case "500":
				return result{ErrorCode: "InternalFailure", ErrorMessage: "Internal Failure"}
			}
			if e.Source == "" || e.DetailType == "" || e.Detail == "" {
				return result{ErrorCode: "InvalidArgument", ErrorMessage: "Parameters Source, DetailType and Detail are required."}
			}
			var detail map[string]any
			if json.Unmarshal([]byte(e.Detail), &detail) != nil {
				return result{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."}
			}
			size := len(e.Source) + len(e.DetailType) + len(e.Detail)
			for _, r := range e.Resources {
				size += len(r)
			}
			if size > maxEntrySize {
				return result{ErrorCode: "InvalidArgument", ErrorMessage: fmt.Sprintf("Event size %d exceeds the limit of %d bytes.", size, maxEntrySize)}
			}
			bus := busArn(e.EventBusName, c.sig.Region, p.AccountID)
			if a, ok := strings.CutPrefix(bus, "arn:"); ok && !strings.Contains(a, ":"+p.AccountID+":") {
				return result{ErrorCode: "AccessDeniedException", ErrorMessage: "The simulator does not model buses of other accounts: " + bus}
			}
			ctx := identity.Context{}
			ctx.Set("events:source", e.Source)
			ctx.Set("events:detail-type", e.DetailType)
			if err := s.store.Authorize(p, "events:PutEvents", bus, ctx); err != nil {
				return result{ErrorCode: "AccessDeniedException", ErrorMessage: err.Error()}
			}
			id := s.events.add(PutEvent{EventBusArn: bus, Account: p.AccountID, Source: e.Source, DetailType: e.DetailType,
				Detail: json.RawMessage(e.Detail), Resources: e.Resources, Time: s.store.Now().UTC(), PrincipalArn: p.Arn})
			return result{EventID: id}
		}()
		if res.ErrorCode != "" {
			out.FailedEntryCount++
		}
		out.Entries = append(out.Entries, res)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// busArn is the ARN of the bus an entry names (a name, an ARN, or nothing: the default bus).
func busArn(name, region, account string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	if name == "" {
		name = "default"
	}
	return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", region, account, name)
}
