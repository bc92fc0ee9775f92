package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// serveKMS answers the AWS KMS API (JSON 1.1, X-Amz-Target TrentService.*) for the
// operations dsmigrate and its tests call: CreateKey, DescribeKey, GetKeyPolicy,
// CreateGrant, ListGrants and RevokeGrant (the store's RetireGrant is not served: no
// client of the product or of the local run calls it). Every call is authorized as KMS
// does (store.AuthorizeKMS: key policy, grants, identity policies).
func (s *Server) serveKMS(w http.ResponseWriter, r *http.Request, c caller, authErr *store.Error) {
	jsonErr := func(status int, typ, msg string) {
		jsonProtocolError(w, "application/x-amz-json-1.1", status, typ, msg)
	}
	if jsonProtocolAuthError(w, "application/x-amz-json-1.1", authErr) {
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	if kind := s.faults.take("kms", op); kind != "" {
		if kind == "throttle" {
			jsonErr(400, "ThrottlingException", "Rate exceeded")
		} else {
			jsonErr(500, "KMSInternalException", "An internal error occurred. Please try again.")
		}
		return
	}
	var in struct {
		KeyID             string   `json:"KeyId"`
		Description       string   `json:"Description"`
		Policy            string   `json:"Policy"`
		PolicyName        string   `json:"PolicyName"`
		GranteePrincipal  string   `json:"GranteePrincipal"`
		RetiringPrincipal string   `json:"RetiringPrincipal"`
		Operations        []string `json:"Operations"`
		Name              string   `json:"Name"`
		GrantID           string   `json:"GrantId"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		jsonErr(400, "SerializationException", err.Error())
		return
	}
	p := c.principal
	var out any
	var err error
	switch op {
	case "CreateKey":
		// A principal may create keys in its own account when its identity policies
		// allow kms:CreateKey (resource "*").
		if err = s.store.Authorize(p, "kms:CreateKey", "*", nil); err == nil {
			var k store.KMSKey
			if k, err = s.store.CreateKey(p.AccountID, in.Description, in.Policy); err == nil {
				out = map[string]any{"KeyMetadata": keyMetadata(k)}
			}
		}
	case "DescribeKey":
		var k store.KMSKey
		if k, err = s.store.DescribeKey(p, in.KeyID); err == nil {
			out = map[string]any{"KeyMetadata": keyMetadata(k)}
		}
	case "GetKeyPolicy":
		var k store.KMSKey
		if k, err = s.store.KeyPolicy(p, in.KeyID); err == nil {
			out = map[string]any{"Policy": k.Policy, "PolicyName": "default"}
		}
	case "CreateGrant":
		var g store.KMSGrant
		if g, err = s.store.CreateGrant(p, store.CreateGrantInput{KeyID: in.KeyID, GranteePrincipal: in.GranteePrincipal,
			RetiringPrincipal: in.RetiringPrincipal, Name: in.Name, Operations: in.Operations}); err == nil {
			out = map[string]any{"GrantId": g.GrantID, "GrantToken": g.GrantToken}
		}
	case "ListGrants":
		var gs []store.KMSGrant
		if gs, err = s.store.ListGrants(p, in.KeyID, in.GrantID, in.GranteePrincipal); err == nil {
			items := make([]map[string]any, 0, len(gs))
			for _, g := range gs {
				item := map[string]any{"KeyId": g.KeyArn, "GrantId": g.GrantID, "GranteePrincipal": g.GranteePrincipal,
					"IssuingAccount": g.IssuingAccount, "Operations": g.Operations,
					"CreationDate": float64(g.Created.UnixMilli()) / 1000}
				if g.Name != "" {
					item["Name"] = g.Name
				}
				if g.RetiringPrincipal != "" {
					item["RetiringPrincipal"] = g.RetiringPrincipal
				}
				items = append(items, item)
			}
			out = map[string]any{"Grants": items, "Truncated": false}
		}
	case "RevokeGrant":
		if err = s.store.RevokeGrant(p, in.KeyID, in.GrantID); err == nil {
			out = map[string]any{}
		}
	default:
		jsonErr(400, "UnknownOperationException", "The simulator does not serve KMS operation "+op)
		return
	}
	if err != nil {
		var ad *identity.AccessDeniedError
		var se *store.Error
		switch {
		case errors.As(err, &ad):
			jsonErr(400, "AccessDeniedException", ad.Error())
		case errors.As(err, &se):
			jsonErr(400, se.Code, se.Message)
		default:
			jsonErr(500, "KMSInternalException", err.Error())
		}
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func keyMetadata(k store.KMSKey) map[string]any {
	return map[string]any{"KeyId": k.KeyID, "Arn": k.Arn, "AWSAccountId": k.AccountID, "Description": k.Description,
		"KeyManager": k.KeyManager, "KeyState": "Enabled", "Enabled": true, "KeyUsage": "ENCRYPT_DECRYPT",
		"KeySpec": "SYMMETRIC_DEFAULT", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS",
		"CreationDate": float64(k.Created.UnixMilli()) / 1000, "MultiRegion": false,
		"EncryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}}
}
